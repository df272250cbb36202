module github.com/jwtkit/auth/examples/gateway

go 1.25.0

require (
	github.com/jwtkit/auth v0.1.0
	golang.org/x/time v0.16.0
)

require (
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/google/uuid v1.6.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
