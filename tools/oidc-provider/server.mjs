// A real OpenID provider (npm oidc-provider) for the guichet's sign-in tests: agents (as
// ProConnect) and, with a second client, citizens (as FranceConnect).
//
// A confidential client for the agents (`guichet`, client_secret_basic, PKCE S256 required), and
// when OIDC_CITIZEN_REDIRECT_URI is set a second one for the citizens (`guichet-citoyens`), test
// accounts with their passwords, a login page and a consent page (plain HTML forms that the tests
// submit, as a browser would), RP-initiated logout. Listens on 127.0.0.1, on a free port unless
// PORT is set, and prints one line `listening on http://127.0.0.1:PORT` once ready: that URL is
// the issuer.
//
// Environment:
//   OIDC_REDIRECT_URI            the guichet's agents' callback (required)
//   OIDC_POST_LOGOUT_URI         where the provider sends the agent after logout (required)
//   OIDC_CLIENT_SECRET           the agents' client's secret (required)
//   OIDC_CITIZEN_REDIRECT_URI    the guichet's citizens' callback (optional: no second client without it)
//   OIDC_CITIZEN_POST_LOGOUT_URI where the provider sends the citizen after logout
//   OIDC_CITIZEN_CLIENT_SECRET   the citizens' client's secret
//   OIDC_ID_TOKEN_TTL            ID token lifetime in seconds (default 3600)
//   PORT                         port to listen on (default 0: a free port)
//
// Accounts (login / password):
//   marie.cantine / cantine-pass   the canteen's agent: email at cantine.beaulieu-sur-loire.example,
//                                  groups ["cantine"], a SIRET, ProConnect's usual_name
//   paul.accueil / accueil-pass    the town hall's front desk: email at mairie.beaulieu-sur-loire.example,
//                                  groups ["accueil"]
// Citizens, with FranceConnect's identity pivot (given_name, family_name, birthdate, gender,
// birthplace and birthcountry as INSEE codes, email) and the eIDAS level of their sign-in (`acr`):
//   jeanne.citoyenne / jeanne-pass eidas2 (FranceConnect+), born in Beaulieu-sur-Loire
//   luc.citoyen / luc-pass         eidas1 (FranceConnect), born abroad (empty birthplace)

import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const required = (name) => {
  const value = process.env[name];
  if (!value) {
    console.error(`missing environment variable ${name}`);
    process.exit(2);
  }
  return value;
};

const redirectUri = required('OIDC_REDIRECT_URI');
const postLogoutUri = required('OIDC_POST_LOGOUT_URI');
const clientSecret = required('OIDC_CLIENT_SECRET');
const idTokenTtl = Number(process.env.OIDC_ID_TOKEN_TTL || 3600);
const citizenRedirectUri = process.env.OIDC_CITIZEN_REDIRECT_URI;

const ACCOUNTS = {
  'marie.cantine': {
    password: 'cantine-pass',
    claims: {
      email: 'marie.dupont@cantine.beaulieu-sur-loire.example',
      email_verified: true,
      given_name: 'Marie',
      usual_name: 'Dupont',
      family_name: 'Dupont',
      name: 'Marie Dupont',
      groups: ['cantine'],
      siret: '21450030500017',
    },
  },
  'paul.accueil': {
    password: 'accueil-pass',
    claims: {
      email: 'paul.martin@mairie.beaulieu-sur-loire.example',
      email_verified: true,
      given_name: 'Paul',
      usual_name: 'Martin',
      family_name: 'Martin',
      name: 'Paul Martin',
      groups: ['accueil'],
      siret: '21450030500017',
    },
  },
  'jeanne.citoyenne': {
    password: 'jeanne-pass',
    acr: 'eidas2',
    claims: {
      given_name: 'Jeanne Marie',
      family_name: 'ROUX',
      preferred_username: '',
      birthdate: '1987-06-27',
      gender: 'female',
      birthplace: '45030',
      birthcountry: '99100',
      email: 'jeanne.roux@courriel.example',
    },
  },
  'luc.citoyen': {
    password: 'luc-pass',
    acr: 'eidas1',
    claims: {
      given_name: 'Luc',
      family_name: 'MARTIN',
      birthdate: '1979-05-19',
      gender: 'male',
      birthplace: '',
      birthcountry: '99134',
      email: 'luc.martin@courriel.example',
    },
  },
};

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`;

/// The form body of a POST, as an object (url-encoded only).
const readForm = (req) => new Promise((resolve, reject) => {
  let data = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    data += chunk;
    if (data.length > 64 * 1024) reject(new Error('body too large'));
  });
  req.on('end', () => resolve(Object.fromEntries(new URLSearchParams(data))));
  req.on('error', reject);
});

const send = (res, status, html) => {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
};

const server = http.createServer();
server.listen(Number(process.env.PORT || 0), '127.0.0.1', async () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  // A fresh signing key per run: the guichet must fetch it from the JWKS. Made and exported
  // through WebCrypto, whose jobs run off the main thread: Node 20's `generateKeyPairSync` followed
  // by `KeyObject.export({ format: 'jwk' })` can deadlock for good when a garbage collection during
  // the export frees the key-generation job, whose destructor waits for the lock the export holds
  // (seen once here: the provider listening, its `listening on` line never printed).
  const { privateKey } = await crypto.webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    true,
    ['sign', 'verify'],
  );
  // WebCrypto's own members (`ext`, `key_ops`) say nothing a JWKS needs; `use` says it instead.
  const { ext: _ext, key_ops: _ops, ...exported } = await crypto.webcrypto.subtle.exportKey('jwk', privateKey);
  const jwk = { ...exported, kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };

  const clients = [{
    client_id: 'guichet',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    post_logout_redirect_uris: [postLogoutUri],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }];
  if (citizenRedirectUri) {
    clients.push({
      client_id: 'guichet-citoyens',
      client_secret: required('OIDC_CITIZEN_CLIENT_SECRET'),
      redirect_uris: [citizenRedirectUri],
      post_logout_redirect_uris: [required('OIDC_CITIZEN_POST_LOGOUT_URI')],
      response_types: ['code'],
      grant_types: ['authorization_code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    });
  }
  const provider = new Provider(issuer, {
    clients,
    // FranceConnect's levels; the one of each sign-in is the account's (ID token `acr`).
    acrValues: ['eidas1', 'eidas2', 'eidas3'],
    jwks: { keys: [jwk] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    // What ProConnect releases, by scope (its userinfo carries them; the ID token only `sub`).
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      given_name: ['given_name'],
      usual_name: ['usual_name'],
      profile: ['name', 'given_name', 'family_name'],
      groups: ['groups'],
      siret: ['siret'],
      // FranceConnect's scopes, one per claim of the identity pivot (released by userinfo).
      family_name: ['family_name'],
      birthdate: ['birthdate'],
      birthplace: ['birthplace'],
      birthcountry: ['birthcountry'],
      gender: ['gender'],
      preferred_username: ['preferred_username'],
    },
    pkce: { required: () => true },
    ttl: { IdToken: idTokenTtl, AccessToken: 600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        // The confirmation form, answering "yes" when submitted as is.
        logoutSource: async (ctx, form) => {
          ctx.body = page('Déconnexion', form.replace('</form>', '<input type="hidden" name="logout" value="yes"><button type="submit">Se déconnecter</button></form>'));
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Déconnecté', '<p>Vous êtes déconnecté.</p>');
        },
      },
    },
    findAccount: async (_ctx, sub) => {
      const account = ACCOUNTS[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Erreur', `<pre id="error">${escape(JSON.stringify(out))}</pre>`);
    },
  });

  const callback = provider.callback();
  server.on('request', async (req, res) => {
    const match = req.url.match(/^\/interaction\/([A-Za-z0-9_-]+)(\/login|\/consent)?$/);
    if (!match) {
      callback(req, res);
      return;
    }
    try {
      const details = await provider.interactionDetails(req, res);
      const { uid, prompt, params } = details;
      if (req.method === 'GET') {
        if (prompt.name === 'login') {
          send(res, 200, page('Connexion', `<form method="post" action="/interaction/${uid}/login">
<label>Identifiant <input name="login"></label><label>Mot de passe <input type="password" name="password"></label>
<button type="submit">Se connecter</button></form>`));
        } else {
          send(res, 200, page('Autorisation', `<p>${escape(params.client_id)} demande : ${escape(params.scope)}</p>
<form method="post" action="/interaction/${uid}/consent"><button type="submit">Autoriser</button></form>`));
        }
        return;
      }
      if (req.method === 'POST' && match[2] === '/login' && prompt.name === 'login') {
        const form = await readForm(req);
        const account = ACCOUNTS[form.login];
        if (!account || account.password !== form.password) {
          send(res, 401, page('Connexion refusée', '<p>Identifiant ou mot de passe inconnu.</p>'));
          return;
        }
        const login = { accountId: form.login, ...(account.acr ? { acr: account.acr } : {}) };
        await provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
        return;
      }
      if (req.method === 'POST' && match[2] === '/consent' && prompt.name === 'consent') {
        const grant = details.grantId
          ? await provider.Grant.find(details.grantId)
          : new provider.Grant({ accountId: details.session.accountId, clientId: params.client_id });
        if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
        if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
        const grantId = await grant.save();
        await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
        return;
      }
      send(res, 400, page('Erreur', '<p>Étape inattendue.</p>'));
    } catch (err) {
      send(res, 400, page('Erreur', `<pre id="error">${escape(err.message)}</pre>`));
    }
  });

  console.log(`listening on ${issuer}`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
