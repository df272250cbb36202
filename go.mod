module github.com/jwtkit/auth

go 1.25.0

require (
	github.com/golang-jwt/jwt/v5 v5.3.1
	github.com/google/uuid v1.6.0
	golang.org/x/crypto v0.55.0
	golang.org/x/text v0.41.0
)

require golang.org/x/sys v0.47.0 // indirect
