/* global document, fetch, sessionStorage, React, ReactDOM, GraphiQL */
// The IDE page: GraphiQL (prebuilt, served by this server) with the bearer token from the field
// above it. No build step, no third-party requests.
'use strict';

const TOKEN_KEY = 'ig-ide-token';
const DEFAULT_QUERY = `# Paste a token above, then run this with Ctrl-Enter.
{
  scorecards(groupBy: SERVICE) {
    serviceId
    score
    passing
  }
}
`;

let token = sessionStorage.getItem(TOKEN_KEY) || '';
const root = ReactDOM.createRoot(document.getElementById('graphiql'));
const hint = document.getElementById('token-state');
const hintText = hint.innerHTML;

// Headers typed into GraphiQL's own editor win over the token field.
async function fetcher(params, opts) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const typed = Object.keys((opts && opts.headers) || {}).some((h) => h.toLowerCase() === 'authorization');
  // The server answers every anonymous operation but the SDL with 401: say what to do instead.
  if (!token && !typed)
    return { errors: [{ message: 'No token yet: paste one into the field above (npm run token -- --role viewer --tenant acme).' }] };
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: { ...headers, ...(opts && opts.headers) },
    body: JSON.stringify(params),
  });
  return res.json();
}

function render() {
  hint.classList.toggle('ig-set', Boolean(token));
  if (token) hint.textContent = 'Token in use: sent as Authorization: Bearer … to this server only. Clear it to sign out.';
  else hint.innerHTML = hintText;
  // A new key remounts GraphiQL, so the schema is fetched again with the new token.
  root.render(React.createElement(GraphiQL, { key: token || 'anonymous', fetcher, defaultQuery: DEFAULT_QUERY }));
}

document.getElementById('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = document
    .getElementById('token')
    .value.trim()
    .replace(/^Bearer\s+/i, '');
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  render();
});
document.getElementById('token-clear').addEventListener('click', () => {
  token = '';
  document.getElementById('token').value = '';
  sessionStorage.removeItem(TOKEN_KEY);
  render();
});
document.getElementById('token').value = token;
render();
