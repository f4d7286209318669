// A real OpenID Connect provider (the oidc-provider package) for the login tests, bound to
// 127.0.0.1. Users, passwords and groups come from the JSON file in OIDC_CONFIG:
//   {"port": 0, "clients": [{client_id, client_secret, redirect_uris: [...]}],
//    "users": [{"login", "password", "name", "email", "groups": [...]}]}
// The login form checks the password; consent is given at once (a test provider).
// When it listens it prints one line "OIDC_READY <issuer>" on standard output.
import fs from 'node:fs';
import http from 'node:http';
import { parse } from 'node:querystring';
import Provider, { interactionPolicy } from 'oidc-provider';

// Streamlit's st.login asks prompt=select_account (as Entra ID and Keycloak support): a
// requestable prompt here, answered by the same login form.
const policy = interactionPolicy.base();
policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

const cfg = JSON.parse(fs.readFileSync(process.env.OIDC_CONFIG, 'utf8'));
const port = Number(cfg.port);
const issuer = `http://127.0.0.1:${port}`;
const users = new Map(cfg.users.map((u) => [u.login, u]));

const provider = new Provider(issuer, {
  clients: cfg.clients.map((c) => ({
    grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic', ...c,
  })),
  async findAccount(ctx, sub) {
    const u = users.get(sub);
    if (!u) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { sub, email: u.email, email_verified: true, name: u.name, groups: u.groups || [] };
      },
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  conformIdTokenClaims: false,
  pkce: { required: () => false },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = `<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Uitloggen (testaanbieder)</title></head>
<body><main><h1>Uitloggen</h1>${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Ja, uitloggen</button></main></body></html>`;
      },
    },
  },
  interactions: { policy, url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: [cfg.cookie_key || 'only-for-tests'] },
});

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(res, uid, message) {
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Inloggen (testaanbieder)</title></head>
<body><main><h1>Inloggen</h1>${message ? `<p role="alert">${esc(message)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}">
<label for="login">Gebruikersnaam</label> <input id="login" name="login" autocomplete="username" required>
<label for="password">Wachtwoord</label> <input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Inloggen</button></form></main></body></html>`);
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return parse(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'login' || details.prompt.name === 'select_account') {
    if (req.method !== 'POST') return loginPage(res, uid);
    const body = await readBody(req);
    const u = users.get(String(body.login || ''));
    if (!u || u.password !== String(body.password || '')) return loginPage(res, uid, 'Onjuiste gebruikersnaam of wachtwoord.');
    const result = { login: { accountId: u.login } };
    if (details.prompt.name === 'select_account') result.select_account = {};
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  // consent: grant what the client asked for
  const { prompt: { details: missing }, params, session } = details;
  const grant = details.grantId ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  if (missing.missingResourceScopes) {
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = http.createServer(async (req, res) => {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)\/?$/.exec(req.url.split('?')[0]);
  if (!m) return callback(req, res);
  try {
    await interaction(req, res, m[1]);
  } catch (err) {
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`Inloggen mislukt: ${err.message}`);
  }
});
server.listen(port, '127.0.0.1', () => { console.log(`OIDC_READY ${issuer}`); });
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
