'use strict';
// End-to-end: an unmodified passport-facebook web app (app.js) logs people in through
// graphtoken's Facebook Login dialog, driven in headless Chromium.
//
//   npm test                 (GRAPHTOKEN_BIN=/path/to/graphtoken to pick the binary)
//
// Each test logs in as its own person in a fresh browser context, so tests do not depend on
// each other's grants or cookies.

const assert = require('node:assert/strict');
const { after, before, describe, test } = require('node:test');

const { startHarness, World, ADMIN_KEY } = require('./harness');
const { Session } = require('./dialog');

const U = World.users;
const TEST_TIMEOUT = 60_000;

describe('passport-facebook logs in through graphtoken', { timeout: 10 * 60_000 }, () => {
  let h;
  const sessions = [];

  before(async () => {
    h = await startHarness();
  }, { timeout: 120_000 });

  after(async () => {
    for (const s of sessions) await s.close();
    if (h) await h.close();
  }, { timeout: 60_000 });

  async function session() {
    const s = await Session.open(h);
    sessions.push(s);
    return s;
  }

  const gtOrigin = () => new URL(h.gt.base).origin;
  const onGraphtoken = (url) => url.startsWith(`${gtOrigin()}/`);

  /** Asserts the person is shown as the profile the app got from /me. */
  function assertProfile(result, user, { email }) {
    assert.equal(result.ok, true, `the app reports a failed login: ${JSON.stringify(result.error)}`);
    assert.match(result.profile.id, /^\d+$/, 'profile id is a numeric (app-scoped) id');
    assert.equal(result.profile.name, user.name);
    if (email) {
      assert.equal(result.profile.email, user.email);
    } else {
      assert.equal(result.profile.email, null, 'no email in the profile when email is not granted');
    }
  }

  test('approve: alice signs in, consents to email, and the app gets her profile and email', { timeout: TEST_TIMEOUT }, async () => {
    const s = await session();
    const app = h.apps.sample;
    const mark = s.mark();
    await s.goto(`${app.url}/login?scope=email`);

    await s.expectSignIn();
    assert.ok(onGraphtoken(s.page.url()), `the sign-in page is served by graphtoken, not ${s.page.url()}`);
    await s.signIn(U.alice);

    await s.expectConsent();
    const email = s.page.locator('#perm-email');
    assert.equal(await email.getAttribute('name'), 'scope', '#perm-email is an input[name=scope]');
    assert.equal(await email.isChecked(), true, 'email is ticked by default');
    const publicProfile = s.page.locator('#perm-public_profile');
    assert.equal(await publicProfile.isChecked(), true, 'public_profile is ticked');
    assert.equal(await publicProfile.isDisabled(), true, 'public_profile cannot be unticked');
    assert.match(await s.page.textContent('#continue'), /Continue as Alice/i);
    assert.match(await s.page.textContent('body'), new RegExp(app.name), 'the consent page names the app');
    await s.page.click('#continue');

    const result = await s.appResult(app);
    assertProfile(result, U.alice, { email: true });
    assert.deepEqual(new Set(result.permissions.granted), new Set(['public_profile', 'email']));
    assert.deepEqual(result.permissions.declined, []);

    const callbacks = s.callbacksSince(mark, app);
    assert.equal(callbacks.length, 1, `one redirect to the callback: ${callbacks.join(', ')}`);
    assert.ok(callbacks[0].searchParams.get('code'), 'the callback carries a code');
    assert.ok(callbacks[0].searchParams.get('state'), 'the callback carries the state passport sent');
  });

  test('decline: carol unticks email; the app sees email declined and no email', { timeout: TEST_TIMEOUT }, async () => {
    const s = await session();
    const app = h.apps.sample;
    await s.goto(`${app.url}/login?scope=email`);
    await s.signIn(U.carol);
    await s.consent({ untick: ['email'] });

    const result = await s.appResult(app);
    assertProfile(result, U.carol, { email: false });
    assert.deepEqual(result.permissions.granted, ['public_profile']);
    assert.deepEqual(result.permissions.declined, ['email']);
  });

  test('pages: heidi lets the app use one of her two Pages; the app sees only that one', { timeout: TEST_TIMEOUT }, async () => {
    const s = await session();
    const app = h.apps.sample;
    const P = World.pages;
    await s.goto(`${app.url}/login?scope=pages_show_list`);
    await s.signIn(U.heidi);
    await s.expectConsent();
    assert.match(await s.page.textContent('body'), new RegExp(`Choose the Pages ${app.name} can use`));
    for (const p of [P.florist, P.bistro]) {
      assert.equal(await s.page.locator(`#page-${p.id}`).isChecked(), true, `${p.name} is ticked by default`);
    }
    await s.consent({ untickPages: [P.florist.id] });

    const result = await s.appResult(app);
    assertProfile(result, U.heidi, { email: false });
    assert.deepEqual(new Set(result.permissions.granted), new Set(['public_profile', 'pages_show_list']));
    assert.deepEqual(result.pages, [P.bistro.name], 'the app sees only the Page left ticked');
  });

  test('console: the base URL shows the world; the debugger explains a token and extends it', { timeout: TEST_TIMEOUT }, async () => {
    const s = await session();
    await s.goto(`${h.gt.base}/`);
    await s.expectStep('the console home', 'h1');
    assert.match(await s.page.textContent('body'), new RegExp(World.apps.sample.name));
    await s.page.click('text=Access Token Debugger');
    await s.expectStep('the Access Token Debugger', '#token');
    const { access_token: token } = await h.gt.admin('POST', 'tokens', { user: 'ivan', app: 'sample', scopes: ['email'] });
    await s.page.fill('#token', token);
    await s.page.click('#debug');
    await s.expectStep("the debugger's answer", 'dl.info');
    const info = await s.page.textContent('dl.info');
    assert.match(info, /Valid\s*True/);
    assert.match(info, /in (59|60) minutes/);
    assert.ok(!s.page.url().includes(token), 'the token is never put in the URL');
    await s.page.click('#extend');
    await s.expectStep('the extended token', 'dl.info');
    assert.match(await s.page.textContent('h2#found'), /new long-lived token/);
    assert.match(await s.page.textContent('dl.info'), /in (59|60) days/);
    const long = (await s.page.inputValue('#token')).trim();
    assert.notEqual(long, token);
  });

  test('wrong password: the sign-in page says so; the right password then works', { timeout: TEST_TIMEOUT }, async () => {
    const s = await session();
    const app = h.apps.sample;
    const mark = s.mark();
    await s.goto(`${app.url}/login?scope=email`);
    await s.signIn(U.erin, { password: 'not-erins-password' });

    await s.expectStep('sign-in page after a wrong password', 'p.error[role="alert"]');
    assert.ok((await s.page.textContent('p.error[role="alert"]')).trim(), 'the alert has a message');
    await s.expectSignIn();
    assert.equal(s.callbacksSince(mark, app).length, 0, 'a wrong password does not go back to the app');

    await s.signIn(U.erin);
    await s.consent();
    const result = await s.appResult(app);
    assertProfile(result, U.erin, { email: true });
    assert.deepEqual(result.permissions.declined, []);
  });

  test('rerequest: a declined email is asked again with auth_type=rerequest; later logins skip consent', { timeout: TEST_TIMEOUT }, async () => {
    const s = await session();
    const app = h.apps.sample;

    // First login: frank declines email.
    await s.goto(`${app.url}/login?scope=email`);
    await s.signIn(U.frank);
    await s.consent({ untick: ['email'] });
    let result = await s.appResult(app);
    assertProfile(result, U.frank, { email: false });
    assert.deepEqual(result.permissions.declined, ['email']);

    // The app asks again. frank is still signed in to graphtoken: straight to the consent page.
    await s.goto(`${app.url}/login?auth_type=rerequest&scope=email`);
    await s.expectConsent();
    assert.equal(await s.page.locator('#perm-email').count(), 1, 'the consent page offers email again');
    assert.equal(await s.page.isChecked('#perm-email'), true);
    await s.page.click('#continue');
    result = await s.appResult(app);
    assertProfile(result, U.frank, { email: true });
    assert.deepEqual(new Set(result.permissions.granted), new Set(['public_profile', 'email']));
    assert.deepEqual(result.permissions.declined, []);

    // Everything requested is granted now: a plain login goes straight back to the app.
    const mark = s.mark();
    await s.goto(`${app.url}/login?scope=email`);
    result = await s.appResult(app);
    assertProfile(result, U.frank, { email: true });
    const shown = s.visitedSince(mark).filter(onGraphtoken);
    assert.deepEqual(shown, [], 'no graphtoken page (sign-in or consent) is shown');
    assert.equal(s.callbacksSince(mark, app).length, 1);
  });

  test('development mode: dave, who has no role on the app, gets "App not active" and no redirect', { timeout: TEST_TIMEOUT }, async () => {
    const s = await session();
    const app = h.apps.devapp;
    const mark = s.mark();
    await s.goto(`${app.url}/login?scope=email`);
    await s.signIn(U.dave);

    await s.expectStep('the "App not active" page', 'h1');
    // Give a redirect that should not happen a moment to happen.
    await s.page.waitForTimeout(1000);
    const title = await s.page.textContent('h1');
    assert.match(title, /not active/i, `the page title says the app is not active; ${await s.describe()}`);
    assert.ok(onGraphtoken(s.page.url()), `the browser stays on graphtoken, not ${s.page.url()}`);
    assert.equal(await s.page.locator('#continue').count(), 0, 'no consent page');
    const callbacks = s.callbacksSince(mark, app);
    assert.equal(callbacks.length, 0, `the browser never reaches the callback: ${callbacks.join(', ')}`);
  });

  test('development mode: alice, an administrator of the app, can log in', { timeout: TEST_TIMEOUT }, async () => {
    const s = await session();
    const app = h.apps.devapp;
    await s.goto(`${app.url}/login?scope=email`);
    await s.signIn(U.alice);
    await s.consent();
    const result = await s.appResult(app);
    assertProfile(result, U.alice, { email: true });
  });

  test('cancel: grace cancels the dialog and the app reports access_denied', { timeout: TEST_TIMEOUT }, async () => {
    const s = await session();
    const app = h.apps.sample;
    const mark = s.mark();
    await s.goto(`${app.url}/login?scope=email`);
    await s.signIn(U.grace);
    await s.cancel();

    const result = await s.appResult(app);
    assert.equal(result.ok, false, `cancelling must not log in: ${JSON.stringify(result)}`);
    assert.equal(result.error.error, 'access_denied');
    assert.equal(result.error.error_reason, 'user_denied');
    assert.equal(result.error.error_description, 'Permissions error.');
    // passport-oauth2 turns access_denied into a failure with the description as its message.
    assert.equal(result.error.message, 'Permissions error.');

    const callbacks = s.callbacksSince(mark, app);
    assert.equal(callbacks.length, 1);
    const q = callbacks[0].searchParams;
    assert.equal(q.get('code'), null);
    assert.equal(q.get('error'), 'access_denied');
    assert.equal(q.get('error_reason'), 'user_denied');
    assert.equal(q.get('error_description'), 'Permissions error.');
    assert.ok(q.get('state'), 'the state comes back on a cancel too');
  });
  // ---- the console: the documents' whole workflow through it alone, then axe-core ----------

  /** A session whose pages axe-core can be injected into (the console's CSP allows no script). */
  async function axeSession() {
    const context = await h.browser.newContext({ viewport: { width: 1280, height: 800 }, bypassCSP: true });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const s = new Session(h, context, page);
    sessions.push(s);
    return s;
  }

  /** Fills the debugger with `token` and returns its answer's text. */
  async function debugToken(s, token) {
    await s.goto(`${h.gt.base}/tools/debug/accesstoken/`);
    await s.expectStep('the Access Token Debugger', '#token');
    await s.page.fill('#token', token);
    await s.page.click('#debug');
    await s.expectStep("the debugger's answer", 'dl.info');
    return s.page.textContent('dl.info');
  }

  test('console workflow: a user token from the Explorer, extended, a Page token that never expires, 61 days later', { timeout: 2 * TEST_TIMEOUT }, async () => {
    const s = await session();
    // Generate Access Token: the real login dialog, back to the Explorer.
    await s.goto(`${h.gt.base}/tools/explorer/`);
    await s.expectStep('the Graph API Explorer', '#generate');
    await s.page.selectOption('#app', World.apps.sample.id);
    await s.page.check('input[name="scope"][value="pages_show_list"]');
    await s.page.click('#generate');
    await s.signIn(U.judy);
    await s.expectConsent();
    await s.consent();
    await s.expectStep('the Explorer with a token', '#token-kind');
    assert.match(await s.page.textContent('#token-kind'), /A user token, valid/);
    const short = (await s.page.inputValue('#token')).trim();
    assert.ok(!s.visited.some((u) => u.includes(short)), 'the token never appears in a URL');
    // Extend it in the debugger.
    await s.page.click('#open-debugger');
    await s.expectStep("the debugger's answer", 'dl.info');
    assert.match(await s.page.textContent('dl.info'), /in (59|60) minutes/);
    await s.page.click('#extend');
    await s.expectStep('the extended token', 'dl.info');
    const long = (await s.page.inputValue('#token')).trim();
    assert.notEqual(long, short);
    // Back in the Explorer with the long-lived token: /me, then Get Page Access Token.
    await s.goto(`${h.gt.base}/tools/explorer/`);
    await s.page.fill('#token', long);
    await s.page.fill('#path', 'me');
    await s.page.fill('#fields', 'id,name');
    await s.page.click('#submit');
    await s.expectStep('the answer', 'pre.json');
    assert.match(await s.page.textContent('pre.json'), /Judy Example/);
    await s.page.selectOption('#page', World.pages.gallery.id);
    await s.page.click('#get-page');
    await s.expectStep('the Page token', '#token-kind');
    assert.match(await s.page.textContent('#token-kind'), /A Page token, valid/);
    const pageToken = (await s.page.inputValue('#token')).trim();
    await s.page.click('#open-debugger');
    await s.expectStep("the debugger's answer", 'dl.info');
    assert.match(await s.page.textContent('dl.info'), /Expires\s*Never/);
    // The emulator controls: the admin key once, then +61 days.
    await s.goto(`${h.gt.base}/tools/emulator/`);
    await s.page.fill('#key', ADMIN_KEY);
    await s.page.click('#unlock');
    await s.expectStep('the emulator controls', '#now');
    await s.page.click('button:has-text("+61 days")');
    await s.expectStep('the clock moved', '.notice');
    try {
      assert.match(await debugToken(s, long), /Valid\s*False.*expired/s, 'the user token expired');
      assert.match(await debugToken(s, pageToken), /Valid\s*True/, 'the Page token is alive');
    } finally {
      // The other tests run on the real time again.
      await h.gt.admin('POST', 'clock', { set: Math.floor(Date.now() / 1000) });
    }
  });

  test('console: the App Dashboard resets a secret, and old app tokens are refused', { timeout: TEST_TIMEOUT }, async () => {
    const app = World.apps.devapp;
    const graph = (path) => fetch(`${h.gt.base}${path}`).then((r) => r.json());
    const { access_token: old } = await graph(`/oauth/access_token?grant_type=client_credentials&client_id=${app.id}&client_secret=${app.secret}`);
    assert.ok(old, 'an app token');
    assert.equal((await graph(`/${app.id}?access_token=${encodeURIComponent(old)}`)).id, app.id);
    const s = await session();
    await s.goto(`${h.gt.base}/apps/${app.id}/settings/basic/`);
    await s.signIn(U.alice);
    await s.expectStep('Settings › Basic', '#reset-secret');
    await s.page.click('#show-secret');
    await s.expectStep('the secret', '#secret');
    assert.equal((await s.page.textContent('#secret')).trim(), app.secret);
    await s.page.click('#reset-secret');
    await s.expectStep('the confirmation', '#confirm-reset');
    await s.page.click('#confirm-reset');
    await s.expectStep('the new secret', '#secret');
    const fresh = (await s.page.textContent('#secret')).trim();
    assert.notEqual(fresh, app.secret);
    const refused = await graph(`/${app.id}?access_token=${encodeURIComponent(old)}`);
    assert.equal(refused.error && refused.error.code, 190, JSON.stringify(refused));
    // The same through the console: the Explorer's answer is the error, explained.
    await s.goto(`${h.gt.base}/tools/explorer/`);
    await s.expectStep('the Graph API Explorer', '#submit');
    await s.page.fill('#token', old);
    await s.page.fill('#path', app.id);
    await s.page.fill('#fields', '');
    await s.page.click('#submit');
    await s.expectStep('the refusal', '.answer.failed');
    assert.match(await s.page.textContent('.answer.failed'), /"code": 190/);
    // Your settings: the apps alice gave access to, and sign out everywhere.
    await s.goto(`${h.gt.base}/settings/apps/`);
    await s.expectStep('Apps and websites', '#sign-out-everywhere');
    await s.page.click('#sign-out-everywhere');
    await s.expectSignIn();
  });

  test('console pages: no serious or critical axe-core violations', { timeout: 2 * TEST_TIMEOUT }, async () => {
    const s = await axeSession();
    const axeSource = require.resolve('axe-core/axe.min.js');
    const failures = [];
    async function check(name) {
      await s.page.addScriptTag({ path: axeSource });
      const result = await s.page.evaluate(async () => {
        // eslint-disable-next-line no-undef
        const r = await axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          help: v.help,
          nodes: v.nodes.length,
          where: v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')}: ${(n.any[0] || {}).message || ''}`),
        }));
      });
      for (const v of result) {
        if (v.impact === 'serious' || v.impact === 'critical') {
          failures.push(`${name}: ${v.id} (${v.impact}) ${v.help} ×${v.nodes}: ${v.where.join(' | ')}`);
        }
      }
    }
    for (const scheme of ['light', 'dark']) {
      await s.page.emulateMedia({ colorScheme: scheme });
      await s.goto(`${h.gt.base}/`);
      await s.expectStep('the console home', 'h1');
      await check(`home (${scheme})`);
      await s.goto(`${h.gt.base}/tools/debug/accesstoken/`);
      await check(`debugger (${scheme})`);
      const { access_token: token } = await h.gt.admin('POST', 'tokens', { user: 'ivan', app: 'sample', scopes: ['email'] });
      await s.page.fill('#token', token);
      await s.page.click('#debug');
      await s.expectStep("the debugger's answer", 'dl.info');
      await check(`debugger with an answer (${scheme})`);
      await s.goto(`${h.gt.base}/tools/explorer/`);
      await check(`explorer (${scheme})`);
      await s.page.fill('#token', token);
      await s.page.fill('#path', 'me');
      await s.page.click('#submit');
      await s.expectStep('the answer', 'pre.json');
      await check(`explorer with an answer (${scheme})`);
      await s.page.fill('#fields', 'colour');
      await s.page.click('#submit');
      await s.expectStep('the error', 'p.error');
      await check(`explorer with an error (${scheme})`);
      await s.goto(`${h.gt.base}/apps/`);
      if (await s.page.locator('#email').count()) {
        await check(`sign-in page (${scheme})`);
        await s.signIn(U.alice);
      }
      await s.goto(`${h.gt.base}/apps/`);
      await check(`your apps (${scheme})`);
      for (const section of ['settings/basic', 'settings/advanced', 'roles', 'app-review', 'test-users', 'callbacks', 'rate-limits']) {
        await s.goto(`${h.gt.base}/apps/${World.apps.sample.id}/${section}/`);
        await s.expectStep(`the dashboard's ${section}`, 'nav.tabs');
        await check(`dashboard ${section} (${scheme})`);
      }
      await s.goto(`${h.gt.base}/apps/${World.apps.sample.id}/settings/basic/`);
      await s.page.click('#reset-secret');
      await s.expectStep('the reset confirmation', '#confirm-reset');
      await check(`reset confirmation (${scheme})`);
      await s.goto(`${h.gt.base}/apps/1/settings/basic/`);
      await s.expectStep('an app not found', 'h1');
      await check(`app not found (${scheme})`);
      await s.goto(`${h.gt.base}/settings/apps/`);
      await check(`your settings (${scheme})`);
      await s.goto(`${h.gt.base}/docs/`);
      await s.expectStep('the docs', 'ul.tools');
      await check(`docs (${scheme})`);
      await s.goto(`${h.gt.base}/docs/README.md`);
      await s.expectStep('a doc', 'pre.doc');
      await check(`a doc (${scheme})`);
      await s.goto(`${h.gt.base}/docs/nothing.md`);
      await s.expectStep('no such doc', 'h1');
      await check(`no such doc (${scheme})`);
      await s.goto(`${h.gt.base}/tools/emulator/`);
      await check(`emulator controls, locked (${scheme})`);
      if (await s.page.locator('#key').count()) {
        await s.page.fill('#key', ADMIN_KEY);
        await s.page.click('#unlock');
      }
      await s.expectStep('the emulator controls', '#now');
      await check(`emulator controls (${scheme})`);
    }
    assert.deepEqual(failures, [], failures.join('\n'));
  });
});
