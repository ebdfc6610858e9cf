'use strict';
// Browser-side helpers: one isolated session (a fresh browser context), and the steps of
// graphtoken's login dialog as a person goes through them. When a step's page does not appear,
// the error says where the browser is and what it shows, so a missing or broken server-side
// page is easy to tell from a broken test.

const STEP_TIMEOUT_MS = 10_000;

class Session {
  /**
   * @param {object} h       the harness (startHarness())
   * @param {object} [opts]  { viewport }
   */
  static async open(h, { viewport = { width: 1280, height: 800 } } = {}) {
    const context = await h.browser.newContext({ viewport });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.setDefaultNavigationTimeout(15_000);
    return new Session(h, context, page);
  }

  constructor(h, context, page) {
    this.h = h;
    this.context = context;
    this.page = page;
    /** Committed main-frame navigations, in order: the pages the person actually saw. */
    this.visited = [];
    /** Every request the browser made (URLs), including redirects. */
    this.requests = [];
    /** The last main-frame document response. */
    this.lastDocument = null;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) this.visited.push(frame.url());
    });
    page.on('request', (req) => this.requests.push(req.url()));
    page.on('response', (resp) => {
      const req = resp.request();
      if (req.isNavigationRequest() && req.frame() === page.mainFrame()) {
        this.lastDocument = { url: resp.url(), status: resp.status() };
      }
    });
  }

  async close() {
    await this.context.close().catch(() => {});
  }

  /** Marks the current point, so that visitedSince() lists the pages seen after it. */
  mark() {
    return { visited: this.visited.length, requests: this.requests.length };
  }

  visitedSince(mark) {
    return this.visited.slice(mark.visited);
  }

  requestsSince(mark) {
    return this.requests.slice(mark.requests);
  }

  /** Requests (after mark) that reached the given app's OAuth callback, as URL objects. */
  callbacksSince(mark, app) {
    return this.requestsSince(mark)
      .filter((u) => u.split('?')[0] === app.callbackURL)
      .map((u) => new URL(u));
  }

  async goto(url) {
    await this.page.goto(url, { waitUntil: 'domcontentloaded' });
  }

  /** A description of what the browser shows right now, for error messages. */
  async describe() {
    const url = this.page.url();
    let text = '';
    try {
      text = (await this.page.evaluate(() => document.body ? document.body.innerText : document.documentElement.outerHTML)) || '';
    } catch (e) {
      text = `(page text unavailable: ${e.message})`;
    }
    text = text.replace(/\s+/g, ' ').trim();
    if (text.length > 600) text = `${text.slice(0, 600)}…`;
    const doc = this.lastDocument ? ` (HTTP ${this.lastDocument.status} for ${this.lastDocument.url})` : '';
    let log = '';
    if (this.h.gt) {
      const tail = this.h.gt.log().trimEnd().split('\n').slice(-15).join('\n');
      if (tail) log = `\n--- graphtoken log (last lines) ---\n${tail}`;
    }
    return `browser is at ${url}${doc}\n--- page text ---\n${text || '(empty)'}${log}`;
  }

  /** Waits for selector; on timeout fails with a description of the page the browser is on. */
  async expectStep(step, selector, { timeout = STEP_TIMEOUT_MS } = {}) {
    try {
      const watch = { done: false };
      try {
        await Promise.race([
          this.page.locator(selector).first().waitFor({ state: 'visible', timeout }),
          this.graphErrorShown(watch),
        ]);
      } finally {
        watch.done = true;
      }
    } catch (e) {
      const err = new Error(`${step}: expected ${selector}, but ${await this.describe()}`);
      err.cause = e;
      throw err;
    }
  }

  /**
   * Rejects as soon as the browser shows a JSON document (a Graph API error where a page was
   * expected), so that a missing dialog page fails at once instead of after the timeout.
   */
  async graphErrorShown(watch) {
    while (!watch.done) {
      await new Promise((r) => setTimeout(r, 250));
      if (watch.done) break;
      const json = await this.page
        .evaluate(() => document.readyState === 'complete' && /json/.test(document.contentType))
        .catch(() => false);
      if (json && !watch.done) throw new Error('the browser shows a JSON document');
    }
  }

  // ---- the dialog's pages -------------------------------------------------------------------

  /** Waits for graphtoken's sign-in page. */
  async expectSignIn() {
    await this.expectStep('graphtoken sign-in page', 'form[action="/login"] #email');
  }

  /** Fills in the sign-in form and submits it. */
  async signIn(user, { password = user.password, expectPage = true } = {}) {
    if (expectPage) await this.expectSignIn();
    await this.page.fill('#email', user.email);
    await this.page.fill('#pass', password);
    // The next step waits for the page that follows (consent, error, or the app).
    await this.page.click('#login');
  }

  /** Waits for the consent page. */
  async expectConsent() {
    await this.expectStep('graphtoken consent page', '#continue');
  }

  async consent({ untick = [], untickPages = [] } = {}) {
    await this.expectConsent();
    for (const permission of untick) {
      await this.page.uncheck(`#perm-${permission}`);
    }
    for (const pageId of untickPages) {
      await this.page.uncheck(`#page-${pageId}`);
    }
    await this.page.click('#continue');
  }

  async cancel() {
    await this.expectConsent();
    await this.page.click('#cancel');
  }

  // ---- the sample app's pages ---------------------------------------------------------------

  /** Waits for the sample app's result page and returns its JSON (or the failure's JSON). */
  async appResult(app) {
    const origin = new URL(app.url).origin;
    try {
      await this.page.waitForURL((u) => u.origin === origin && (u.pathname === '/profile' || u.pathname === '/auth/facebook/callback'), {
        timeout: STEP_TIMEOUT_MS,
        waitUntil: 'domcontentloaded',
      });
      await this.page.locator('#result, #error').first().waitFor({ state: 'attached' });
    } catch (e) {
      const err = new Error(`back at the sample app: expected its result page, but ${await this.describe()}`);
      err.cause = e;
      throw err;
    }
    if (await this.page.locator('#result').count()) {
      return { ok: true, ...JSON.parse(await this.page.textContent('#result')) };
    }
    const text = await this.page.textContent('#error');
    let error;
    try {
      error = JSON.parse(text);
    } catch {
      error = { message: text };
    }
    return { ok: false, error };
  }
}

module.exports = { Session, STEP_TIMEOUT_MS };
