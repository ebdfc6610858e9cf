'use strict';
// Screenshots of graphtoken's pages for the docs: the sign-in page, the consent page, the
// consent page with its Page step, the "App not active" page (a development-mode app), the
// device-login page, and the console (home, debugger, Explorer, emulator controls), each at a desktop
// (1280x800) and a phone (420x800) size, written to docs/screenshots/.
//
//   npm run screenshots      (GRAPHTOKEN_BIN=/path/to/graphtoken to pick the binary)

const fs = require('node:fs');
const path = require('node:path');

const { startHarness, World, ADMIN_KEY } = require('./harness');
const { Session } = require('./dialog');

const OUT = path.resolve(__dirname, '..', '..', 'docs', 'screenshots');
const SIZES = [
  { width: 1280, height: 800 },
  { width: 420, height: 800 },
];
const U = World.users;

async function shoot(s, name, size) {
  await s.page.waitForLoadState('load');
  const file = path.join(OUT, `${name}-${size.width}x${size.height}.png`);
  await s.page.screenshot({ path: file });
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

async function main() {
  fs.mkdirSync(OUT, { recursive: true });
  const h = await startHarness();
  // Stop by ourselves, whatever happens.
  const watchdog = setTimeout(() => {
    console.error('screenshots: timed out after 3 minutes');
    process.exit(1);
  }, 180_000);
  watchdog.unref();
  try {
    for (const size of SIZES) {
      // Sign-in, then consent (several permissions, so the list has something to show).
      let s = await Session.open(h, { viewport: size });
      try {
        await s.goto(`${h.apps.sample.url}/login?scope=email,user_birthday`);
        await s.expectSignIn();
        await shoot(s, 'signin', size);
        await s.signIn(U.alice);
        await s.expectConsent();
        await shoot(s, 'consent', size);

        // Device login, signed in already (the same browser context).
        await s.goto(`${h.gt.base}/device`);
        await s.page.waitForLoadState('load');
        if (await s.page.locator('#email').count()) {
          await s.signIn(U.alice, { expectPage: false });
          await s.page.waitForLoadState('load');
        }
        await s.expectStep('graphtoken device page', 'body *');
        await shoot(s, 'device', size);
      } finally {
        await s.close();
      }

      // A Page permission: the consent page asks which Pages the app may use.
      s = await Session.open(h, { viewport: size });
      try {
        await s.goto(`${h.apps.sample.url}/login?scope=email,pages_show_list`);
        await s.signIn(U.heidi);
        await s.expectConsent();
        await shoot(s, 'consent-pages', size);
      } finally {
        await s.close();
      }

      // The console: its home, and the debugger on a Page token.
      s = await Session.open(h, { viewport: size });
      try {
        await s.goto(`${h.gt.base}/`);
        await s.expectStep('the console home', 'h1');
        await shoot(s, 'console-home', size);
        await s.goto(`${h.gt.base}/tools/debug/accesstoken/`);
        await s.expectStep('the Access Token Debugger', '#token');
        const { access_token: token } = await h.gt.admin('POST', 'tokens', { user: 'heidi', app: 'sample', scopes: ['pages_show_list'] });
        await s.page.fill('#token', token);
        await s.page.click('#debug');
        await s.expectStep('the debugger\'s answer', 'dl.info');
        await shoot(s, 'console-debugger', size);
      } finally {
        await s.close();
      }

      // The Graph API Explorer: a token generated through the dialog, then /me/accounts.
      s = await Session.open(h, { viewport: size });
      try {
        await s.goto(`${h.gt.base}/tools/explorer/`);
        await s.expectStep('the Graph API Explorer', '#generate');
        await shoot(s, 'console-explorer-empty', size);
        await s.page.selectOption('#app', World.apps.sample.id);
        await s.page.click('#generate');
        await s.signIn(U.heidi);
        await s.page.waitForLoadState('load');
        // Heidi consented in the first round: the dialog then goes straight back.
        if (await s.page.locator('#continue').count()) await s.consent();
        await s.expectStep('the Explorer with a token', '#token-kind');
        await s.page.fill('#path', 'me/accounts');
        await s.page.fill('#fields', 'id,name,tasks');
        await s.page.click('#submit');
        await s.expectStep('the answer', 'pre.json');
        await shoot(s, 'console-explorer', size);

        // The emulator controls: the key once, a fault armed, the clock moved.
        await s.goto(`${h.gt.base}/tools/emulator/`);
        await s.expectStep('the emulator controls', 'h1');
        if (await s.page.locator('#key').count()) {
          await shoot(s, 'console-emulator-locked', size);
          await s.page.fill('#key', ADMIN_KEY);
          await s.page.click('#unlock');
        }
        await s.expectStep('the controls', '#now');
        await s.page.selectOption('#error', 'rate_limit_app');
        await s.page.fill('#path', 'me/accounts');
        await s.page.fill('#times', '3');
        await s.page.click('#arm');
        await s.expectStep('the fault armed', '.notice');
        await s.page.click('button:has-text("+61 days")');
        await s.expectStep('the clock moved', '.notice');
        await shoot(s, 'console-emulator', size);
        await s.page.click('#disarm-all');
        await s.expectStep('the faults disarmed', '.notice');
        await h.gt.admin('POST', 'clock', { set: Math.floor(Date.now() / 1000) });
      } finally {
        await s.close();
      }

      // The App Dashboard and a person's settings, as the app's administrator.
      s = await Session.open(h, { viewport: size });
      try {
        await s.goto(`${h.gt.base}/apps/${World.apps.sample.id}/settings/basic/`);
        await s.signIn(U.alice);
        await s.expectStep('Settings › Basic', 'nav.tabs');
        await shoot(s, 'console-dashboard-basic', size);
        for (const [section, name] of [
          ['settings/advanced', 'advanced'],
          ['roles', 'roles'],
          ['app-review', 'review'],
          ['test-users', 'test-users'],
          ['callbacks', 'callbacks'],
          ['rate-limits', 'rate-limits'],
        ]) {
          await s.goto(`${h.gt.base}/apps/${World.apps.sample.id}/${section}/`);
          await s.expectStep(section, 'nav.tabs');
          await shoot(s, `console-dashboard-${name}`, size);
        }
        await s.goto(`${h.gt.base}/apps/`);
        await s.expectStep('Your apps', 'h1');
        await shoot(s, 'console-apps', size);
        await s.goto(`${h.gt.base}/settings/apps/`);
        await s.expectStep('Apps and websites', 'h1');
        await shoot(s, 'console-settings', size);
        await s.goto(`${h.gt.base}/docs/`);
        await s.expectStep('the docs', 'ul.tools');
        await shoot(s, 'console-docs', size);
      } finally {
        await s.close();
      }

      // A development-mode app and a person without a role on it.
      s = await Session.open(h, { viewport: size });
      try {
        await s.goto(`${h.apps.devapp.url}/login?scope=email`);
        await s.signIn(U.dave);
        await s.expectStep('the "App not active" page', 'h1');
        await shoot(s, 'error-not-active', size);
      } finally {
        await s.close();
      }
    }
  } finally {
    await h.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
