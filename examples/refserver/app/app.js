// The browser app of the reference server: plain JavaScript, no build step,
// nothing from another origin.
//
// Tokens. The access token lives in this module's memory only (accessToken
// below), never in Web Storage, IndexedDB or a cookie; the refresh
// token lives only in the HttpOnly cookie that the server sets, which this
// code never sees. A reload restores the session through POST
// /api/auth/refresh (the cookie) and GET /api/auth/me.
//
// Requests. api() sends every bearer request. On 401 TOKEN_EXPIRED it
// refreshes once and retries once. The refresh is shared: while one is in
// flight every caller in this tab awaits the same promise (refreshing).
//
// Tabs. Every tab of the origin shares the one cookie, so two tabs that
// refreshed at the same moment would present the same refresh token twice,
// which the server takes for theft and answers by revoking the session.
// Every request that presents or sets the refresh cookie (refresh, logout,
// login, register) therefore runs under the Web Lock 'auth-refresh': a tab
// sends its refresh only once the tab before it has its answer, and so its
// browser holds the rotated cookie, which the next request presents by
// itself. The access token a refresh returns belongs to the tab that asked,
// so a tab that waited for the lock still refreshes for itself; what it
// checks inside the lock is whether another tab signed out meanwhile (then
// the session is over and it sends nothing). Tabs tell one another of
// sign-ins and sign-outs on a BroadcastChannel whose messages carry nothing
// secret: a type and a time. Without the Web Locks API (an old browser, or
// a page served over plain HTTP off localhost, which is not a secure
// context) the requests of one tab are still serialized, but two tabs may
// collide; set AUTH_REUSE_GRACE on the server for such a setup.

const LOCK = 'auth-refresh';
const CHANNEL = 'auth';

const byId = (id) => document.getElementById(id);
const ui = {
  form: byId('credentials'),
  email: byId('email'),
  password: byId('password'),
  name: byId('name'),
  register: byId('register'),
  login: byId('login'),
  logout: byId('logout'),
  logoutAll: byId('logout-all'),
  user: byId('user'),
  error: byId('error'),
  sessions: byId('sessions'),
};

// ApiError is a failed request: code is the code of the JSON error body,
// NETWORK when no answer came, HTTP_<status> for an answer without a code.
class ApiError extends Error {
  constructor(code, status = 0) {
    super(code);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
  }
}

// Stale ends work whose answer came after the page signed in or out: it is
// dropped, never shown.
class Stale extends Error {}

// The state of this tab. epoch counts sign-ins and sign-outs; work started
// in an older epoch changes nothing.
let accessToken = '';
let user = null;
let epoch = 0;

// send makes one request of the page's origin (fetch then sends Origin and
// Sec-Fetch-Site itself, and the cookie goes where its Path says) and
// returns the decoded JSON body, or null for none. It throws an ApiError
// for a failure.
async function send(method, path, { body, token } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (token) {
    headers.Authorization = `Bearer ${token}`;
  }
  let res;
  let data = null;
  try {
    res = await fetch(path, init);
    if (res.status !== 204) {
      data = await res.json().catch(() => null);
    }
  } catch {
    throw new ApiError('NETWORK');
  }
  if (res.ok) {
    return data;
  }
  const code = data && typeof data.code === 'string' && data.code ? data.code : `HTTP_${res.status}`;
  throw new ApiError(code, res.status);
}

// The lock. Without the Web Locks API, tail chains this tab's requests.
let tail = Promise.resolve();

// underLock runs fn once no request of this tab or another holds the lock,
// and returns its result. fn must not wait for the lock itself: Web Locks
// do not nest, so api() never runs under it.
function underLock(fn) {
  if (navigator.locks && typeof navigator.locks.request === 'function') {
    return navigator.locks.request(LOCK, () => fn());
  }
  const run = tail.then(() => fn());
  tail = run.catch(() => {});
  return run;
}

// The channel between tabs; null where BroadcastChannel is missing.
const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : null;
// peerSignedOutAt is when another tab last said it signed out.
let peerSignedOutAt = 0;

// tell says to the other tabs what happened here: 'signed-in',
// 'signed-out' or 'sessions'. Nothing secret ever goes on the channel.
function tell(type) {
  if (channel) {
    channel.postMessage({ type, at: Date.now() });
  }
}

if (channel) {
  channel.addEventListener('message', (event) => {
    const msg = event.data;
    if (!msg || typeof msg.type !== 'string') {
      return;
    }
    switch (msg.type) {
      case 'signed-out': // the shared session is over
        peerSignedOutAt = Math.max(peerSignedOutAt, Number(msg.at) || Date.now());
        leave();
        break;
      case 'signed-in': // the cookie holds a new session: take it up too
        background(restore());
        break;
      case 'sessions':
        if (user) {
          background(loadSessions());
        }
        break;
      default:
    }
  });
}

// refreshing is the refresh in flight in this tab, and the epoch it was
// started in, or null.
let refreshing = null;

// refresh rotates the refresh cookie for a new access token, which it keeps
// unless the page signed in or out meanwhile. The callers of one epoch in
// this tab share one refresh; tabs take turns under the lock.
function refresh() {
  if (refreshing && refreshing.epoch === epoch) {
    return refreshing.promise;
  }
  const e = epoch;
  const queuedAt = Date.now();
  const promise = underLock(async () => {
    if (peerSignedOutAt >= queuedAt) {
      // Another tab signed out while this one waited: the cookie is
      // cleared or its session revoked, so there is nothing to present.
      throw new ApiError('INVALID_REFRESH_TOKEN', 401);
    }
    const data = await send('POST', '/api/auth/refresh');
    if (!data || typeof data.accessToken !== 'string') {
      throw new ApiError('BAD_RESPONSE');
    }
    return data.accessToken;
  })
    .then((token) => {
      if (e === epoch) {
        accessToken = token;
      }
      return token;
    })
    .finally(() => {
      if (refreshing && refreshing.promise === promise) {
        refreshing = null;
      }
    });
  refreshing = { epoch: e, promise };
  return promise;
}

// api sends a bearer request and returns the JSON body. On 401
// TOKEN_EXPIRED it refreshes (unless another call of this tab already did)
// and retries once. Any other 401, and a refused refresh, mean the session
// is over: the page signs out and the error goes on to the caller.
async function api(method, path, body) {
  const e = epoch;
  for (let attempt = 0; ; attempt++) {
    const token = accessToken;
    let failure = null;
    let data = null;
    try {
      data = await send(method, path, { body, token });
    } catch (err) {
      failure = err;
    }
    if (e !== epoch) {
      throw new Stale();
    }
    if (!failure) {
      return data;
    }
    if (!(failure instanceof ApiError) || failure.status !== 401) {
      throw failure;
    }
    if (failure.code === 'TOKEN_EXPIRED' && attempt === 0) {
      let refused = null;
      if (accessToken === token) {
        try {
          await refresh();
        } catch (err) {
          refused = err;
        }
      }
      if (e !== epoch) {
        throw new Stale();
      }
      if (!refused) {
        continue; // a new token: retry once
      }
      if (!(refused instanceof ApiError) || refused.status !== 401) {
        throw refused; // no answer, or a refusal that keeps the session (429)
      }
      failure = refused;
    }
    leave();
    throw failure;
  }
}

// enter shows the page signed in as u with token and fills the sessions.
function enter(u, token) {
  epoch++;
  user = u;
  accessToken = token;
  render();
  background(loadSessions());
}

// leave forgets the token and shows the page signed out.
function leave() {
  epoch++;
  user = null;
  accessToken = '';
  render();
}

function render() {
  ui.user.textContent = user ? user.email : '';
  document.body.classList.toggle('signed-in', Boolean(user));
  if (!user) {
    ui.sessions.replaceChildren();
  }
}

// restore takes up the session of the refresh cookie, if any: after a
// reload, or when another tab signed in.
async function restore() {
  if (refreshing) {
    // A refresh sent before the news may have presented the old cookie:
    // let it end, then refresh with the cookie as it is now.
    await refreshing.promise.catch(() => {});
  }
  const e = epoch;
  try {
    await refresh();
  } catch (err) {
    if (e !== epoch) {
      return;
    }
    if (err instanceof ApiError && err.status === 401) {
      if (user) {
        leave();
      }
      return; // no session: signed out, which is no error
    }
    throw err;
  }
  if (e !== epoch) {
    return;
  }
  const data = await api('GET', '/api/auth/me');
  if (!data || !data.user || typeof data.user.email !== 'string') {
    throw new ApiError('BAD_RESPONSE');
  }
  enter(data.user, accessToken);
}

// signIn registers or logs in and shows the new session.
async function signIn(path, body) {
  const data = await underLock(() => send('POST', path, { body }));
  if (!data || !data.user || typeof data.user.email !== 'string' || typeof data.accessToken !== 'string') {
    throw new ApiError('BAD_RESPONSE');
  }
  enter(data.user, data.accessToken);
  tell('signed-in');
}

// signOut ends this browser's session (the cookie's, and the bearer's) and
// forgets the token, whatever the server answered.
async function signOut() {
  const token = accessToken;
  try {
    await underLock(async () => {
      await send('POST', '/api/auth/logout', { token });
      tell('signed-out');
    });
  } finally {
    leave();
  }
}

// signOutEverywhere ends every session of the user.
async function signOutEverywhere() {
  try {
    await api('POST', '/api/auth/logout-all');
    tell('signed-out');
  } finally {
    leave();
  }
}

// sessionsSeq numbers the loads of the list; only the newest is shown.
let sessionsSeq = 0;

async function loadSessions() {
  if (!user) {
    return;
  }
  const seq = ++sessionsSeq;
  const data = await api('GET', '/api/auth/sessions');
  if (seq !== sessionsSeq || !user) {
    return;
  }
  const list = data && Array.isArray(data.sessions) ? data.sessions : [];
  ui.sessions.replaceChildren(...list.map(sessionItem));
}

// revoke deletes a session; deleting this browser's own signs the page out,
// and the other tabs with it, since they share the cookie.
async function revoke(id, current) {
  await api('DELETE', `/api/auth/sessions/${encodeURIComponent(id)}`);
  if (current) {
    leave();
    tell('signed-out');
    return;
  }
  tell('sessions');
  await loadSessions();
}

function element(tag, className, text) {
  const el = document.createElement(tag);
  el.className = className;
  if (text !== undefined) {
    el.textContent = text;
  }
  return el;
}

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
}

function sessionItem(s) {
  const li = element('li', s.current ? 'session current' : 'session');
  li.dataset.id = String(s.id);
  const about = element('span', 'about');
  about.append(
    element('span', 'agent', s.userAgent || 'Unknown device'),
    element('span', 'meta', `${s.address || 'unknown address'} · signed in ${when(s.createdAt)} · last used ${when(s.lastUsedAt)}`),
  );
  const button = element('button', 'revoke', 'Revoke');
  button.type = 'button';
  button.addEventListener('click', () => run(() => revoke(String(s.id), Boolean(s.current))));
  li.append(about, button);
  return li;
}

// report shows the code of an error in #error.
function report(err) {
  if (err instanceof Stale) {
    return;
  }
  ui.error.textContent = err instanceof ApiError ? err.code : 'CLIENT_ERROR';
}

// run runs a user's action: #error then shows that action's failure, if any.
function run(action) {
  ui.error.textContent = '';
  return action().catch(report);
}

// background runs work nobody waits for; a failure still shows.
function background(promise) {
  promise.catch(report);
}

ui.form.addEventListener('submit', (event) => event.preventDefault());
ui.login.addEventListener('click', () =>
  run(() => signIn('/api/auth/login', { email: ui.email.value, password: ui.password.value })),
);
ui.register.addEventListener('click', () =>
  run(() =>
    signIn('/api/auth/register', { email: ui.email.value, password: ui.password.value, name: ui.name.value }),
  ),
);
ui.logout.addEventListener('click', () => run(signOut));
ui.logoutAll.addEventListener('click', () => run(signOutEverywhere));
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && user) {
    background(loadSessions());
  }
});

background(restore());
