'use strict';
// A small sample web app that logs people in with Facebook, written the way a developer would
// write it with passport-facebook. The library is used unmodified; the only graphtoken-specific
// thing is that the three Facebook URLs point at graphtoken instead of facebook.com.
//
//   const { createApp } = require('./app');
//   const app = createApp({ graphtokenURL, clientID, clientSecret, callbackURL });
//   app.listen(3000);
//
// Routes:
//   GET /                         a link to log in
//   GET /login?scope=a,b&auth_type=rerequest
//                                 starts Facebook Login (scope defaults to email)
//   GET /auth/facebook/callback   Facebook's redirect back: on success, the profile page; on
//                                 failure, a page with the error
//   GET /profile                  the signed-in person: profile plus /me/permissions, as JSON
//   GET /logout

const crypto = require('node:crypto');
const express = require('express');
const session = require('express-session');
const { Passport } = require('passport');
const FacebookStrategy = require('passport-facebook').Strategy;

const GRAPH_VERSION = 'v3.2';

function escapeHTML(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHTML(title)}</title></head>
<body>
<h1>${escapeHTML(title)}</h1>
${body}
</body>
</html>
`;
}

/**
 * Creates the sample app.
 *
 * @param {object} config
 * @param {string} config.graphtokenURL  graphtoken's base URL, e.g. http://127.0.0.1:8080
 * @param {string} config.clientID       the app id
 * @param {string} config.clientSecret   the app secret
 * @param {string} config.callbackURL    the absolute callback URL, registered as a redirect URI
 * @param {string} [config.name]         shown on the pages
 * @returns {import('express').Express}
 */
function createApp({ graphtokenURL, clientID, clientSecret, callbackURL, name = 'Sample Web App' }) {
  const graph = graphtokenURL.replace(/\/+$/, '');
  // One Passport per app, so that two sample apps can live in one process (the tests run two).
  const passport = new Passport();

  passport.use(
    new FacebookStrategy(
      {
        clientID,
        clientSecret,
        callbackURL,
        authorizationURL: `${graph}/${GRAPH_VERSION}/dialog/oauth`,
        tokenURL: `${graph}/${GRAPH_VERSION}/oauth/access_token`,
        profileURL: `${graph}/${GRAPH_VERSION}/me`,
        profileFields: ['id', 'displayName', 'emails'],
        state: true,
      },
      (accessToken, refreshToken, profile, done) => {
        // A real app would find or create its own user record here.
        done(null, {
          id: profile.id,
          name: profile.displayName,
          email: profile.emails && profile.emails.length ? profile.emails[0].value : null,
          accessToken,
        });
      },
    ),
  );
  passport.serializeUser((user, done) => done(null, user));
  passport.deserializeUser((user, done) => done(null, user));

  const app = express();
  app.disable('x-powered-by');
  app.use(
    session({
      // Several sample apps may run on 127.0.0.1 at once; cookies do not tell ports apart.
      name: `sample-${clientID}.sid`,
      secret: crypto.randomBytes(16).toString('hex'),
      resave: false,
      saveUninitialized: false,
    }),
  );
  app.use(passport.initialize());
  app.use(passport.session());

  app.get('/', (req, res) => {
    res.send(page(name, '<p><a id="login" href="/login">Log in with Facebook</a></p>'));
  });

  app.get('/login', (req, res, next) => {
    const scope = String(req.query.scope || 'email')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const options = { scope };
    if (req.query.auth_type) options.authType = String(req.query.auth_type);
    passport.authenticate('facebook', options)(req, res, next);
  });

  app.get('/auth/facebook/callback', (req, res, next) => {
    passport.authenticate('facebook', (err, user, info) => {
      if (err || !user) {
        const failure = {
          error: req.query.error || (err && (err.code || err.name)) || 'login_failed',
          error_reason: req.query.error_reason || null,
          error_description: req.query.error_description || null,
          message: (err && err.message) || (info && info.message) || null,
        };
        return res.status(err ? 500 : 401).send(
          page('Login failed', `<pre id="error">${escapeHTML(JSON.stringify(failure, null, 2))}</pre>
<p><a href="/login">Try again</a></p>`),
        );
      }
      req.logIn(user, (loginErr) => {
        if (loginErr) return next(loginErr);
        res.redirect('/profile');
      });
    })(req, res, next);
  });

  app.get('/profile', async (req, res, next) => {
    if (!req.user) return res.redirect('/');
    try {
      const url = `${graph}/${GRAPH_VERSION}/me/permissions?access_token=${encodeURIComponent(req.user.accessToken)}`;
      const resp = await fetch(url);
      const body = await resp.json();
      if (!resp.ok) {
        throw new Error(`GET /me/permissions: ${resp.status} ${JSON.stringify(body)}`);
      }
      const permissions = { granted: [], declined: [] };
      for (const { permission, status } of body.data || []) {
        (permissions[status] || (permissions[status] = [])).push(permission);
      }
      const result = {
        profile: { id: req.user.id, name: req.user.name, email: req.user.email },
        permissions,
      };
      // With pages_show_list, the Pages the app may use.
      if (permissions.granted.includes('pages_show_list')) {
        const accountsUrl = `${graph}/${GRAPH_VERSION}/me/accounts?fields=name&access_token=${encodeURIComponent(req.user.accessToken)}`;
        const accounts = await (await fetch(accountsUrl)).json();
        result.pages = (accounts.data || []).map((p) => p.name);
      }
      res.send(
        page(`Welcome, ${req.user.name}`, `<pre id="result">${escapeHTML(JSON.stringify(result, null, 2))}</pre>
<p><a href="/logout">Log out</a></p>`),
      );
    } catch (e) {
      next(e);
    }
  });

  app.get('/logout', (req, res, next) => {
    req.logout((err) => (err ? next(err) : res.redirect('/')));
  });

  // eslint-disable-next-line no-unused-vars
  app.use((err, req, res, next) => {
    res.status(500).send(page('Error', `<pre id="error">${escapeHTML(err.stack || String(err))}</pre>`));
  });

  return app;
}

module.exports = { createApp };

if (require.main === module) {
  // node app.js  (configure with environment variables)
  const port = Number(process.env.PORT || 3000);
  const app = createApp({
    graphtokenURL: process.env.GRAPHTOKEN_URL || 'http://127.0.0.1:8080',
    clientID: process.env.FACEBOOK_APP_ID,
    clientSecret: process.env.FACEBOOK_APP_SECRET,
    callbackURL: process.env.CALLBACK_URL || `http://localhost:${port}/auth/facebook/callback`,
  });
  app.listen(port, () => console.log(`sample app on http://localhost:${port}`));
}
