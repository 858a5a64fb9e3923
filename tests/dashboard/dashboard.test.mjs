// The relay's operator dashboard (GET /) in a real browser: Debian's headless Chromium driven by
// playwright-core. A prod-mode relay and two connector "machines" made of real c2c processes:
//  - the page loads with no console errors and reads "live";
//  - the state is pushed as server-sent events (one GET /dashboard/events per token change,
//    no polling);
//  - before the admin token is entered it shows counts only: no token, no message content, no
//    aliases, node ids or deliveries; the token is never put in a URL or a cookie;
//  - a message sent through the relay shows up within 1 s (counter, then the deliveries table);
//  - a connector in loop mode shows as an open stream, and a message pushed on it within 1 s;
//  - it works at 390 px (no horizontal page scroll) and at 1440 px.
// C2C_SCREENSHOT_DIR=<dir> saves dashboard-1440.png and dashboard-390.png there (docs/images).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

const run = promisify(execFile);
const C2C = process.env.C2C_BIN;
const CHROMIUM = process.env.C2C_CHROMIUM || "/usr/bin/chromium";
const TOKEN = "dash-admin-token-5f1c";
const SECRET = "top-secret-content-7d2e";

function startRelay(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(C2C, ["relay", "serve", "--listen", "127.0.0.1:0", "--token-file",
      join(dir, "token")], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const timer = setTimeout(() => reject(new Error("relay did not start: " + out)), 30000);
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/c2c relay serving on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve({ child, url: m[1] }); }
    });
    child.on("exit", (code) => reject(new Error("relay exited " + code + ": " + out)));
  });
}

function machine(dir, node) {
  const root = join(dir, node);
  mkdirSync(join(root, "home"), { recursive: true });
  mkdirSync(join(root, "broker"), { recursive: true });
  const env = { PATH: process.env.PATH, HOME: join(root, "home"),
    C2C_MCP_BROKER_ROOT: join(root, "broker"), ASAN_OPTIONS: process.env.ASAN_OPTIONS || "" };
  const c2c = (args) => run(C2C, args, { env, cwd: root, timeout: 60000 });
  return {
    c2c,
    // A connector in loop mode (it holds a receive stream open); the caller kills it.
    loop: (url) => spawn(C2C, ["relay", "connect", "--relay-url", url, "--node-id", node],
      { env, cwd: root, stdio: "ignore" }),
    connect: (url) => c2c(["relay", "connect", "--relay-url", url, "--node-id", node, "--once"]),
  };
}

// Polls fn() until it returns truthy; returns the elapsed milliseconds.
async function within(ms, fn, what) {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (await fn()) return Date.now() - start;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

test("dashboard: live, no secrets before the token, message flow within 1 s, 390 and 1440 px",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "c2c-dashboard-"));
    writeFileSync(join(dir, "token"), TOKEN + "\n", { mode: 0o600 });
    const relay = await startRelay(dir);
    const profile = join(dir, "chromium-profile");
    let context;
    let streamer;
    try {
      const a = machine(dir, "machine-a");
      const b = machine(dir, "machine-b");
      await a.c2c(["register", "--alias", "alice", "--session-id", "ses-a", "--pid", "0"]);
      await b.c2c(["register", "--alias", "bob", "--session-id", "ses-b", "--pid", "0"]);
      await a.connect(relay.url);
      await b.connect(relay.url);

      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1440, height: 900 },
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
      const page = context.pages()[0] || await context.newPage();
      const problems = [];
      page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
      page.on("pageerror", (e) => problems.push(String(e)));
      const urls = [];
      page.on("request", (r) => urls.push(r.url()));

      await page.goto(relay.url + "/");
      await within(5000, async () => (await page.textContent("#live")).includes("live"), "live");
      await within(2000, async () => (await page.textContent("#c-peers")) === "2", "2 peers");
      const sent = async () => Number(await page.textContent("#c-sent"));
      const before = await sent();

      // A message through the relay: counted on the page within 1 s.
      await a.c2c(["send", "bob@machine-b", SECRET, "--from", "alice"]);
      await a.connect(relay.url);
      const counted = await within(1000, async () => (await sent()) === before + 1,
        "message counted");
      console.log(`message counted on the page after ${counted} ms`);

      // B's connector in loop mode: its receive stream shows as open, and a message pushed on
      // it is counted within 1 s.
      streamer = b.loop(relay.url);
      await within(20000, async () => (await page.textContent("#c-streams")) === "1",
        "open stream");
      const pushed = async () => Number(await page.textContent("#c-pushed"));
      await within(5000, async () => (await pushed()) >= 1, "queued message pushed");
      const pushedBefore = await pushed();
      await a.c2c(["send", "bob@machine-b", SECRET + "-s", "--from", "alice"]);
      await a.connect(relay.url);
      const pushedIn = await within(1000, async () => (await pushed()) === pushedBefore + 1,
        "message pushed on the stream");
      console.log(`stream push counted on the page after ${pushedIn} ms`);

      // Counts only: no token, content, aliases, node ids; the detail sections stay hidden.
      const html = await page.content();
      for (const secret of [TOKEN, SECRET, "alice", "machine-a", "ses-a"]) {
        assert.ok(!html.includes(secret), `public page shows ${secret}`);
      }
      assert.equal(await page.isVisible("#peers"), false);
      assert.equal(await page.isVisible("#unlock"), true);

      // The admin token: details appear, sent only as a header.
      await page.fill("#token", TOKEN);
      await page.click("#unlock button");
      await within(2000, async () => (await page.textContent("#peers")).includes("alice"),
        "peers after the token");
      const deliveries = async () => page.textContent("#deliveries");
      assert.ok((await deliveries()).includes("bob@machine-b"));
      assert.ok((await deliveries()).includes("stream"), "stream pushes are listed");
      const rowsBefore = (await page.$$("#deliveries tr")).length;
      await a.c2c(["send", "bob@machine-b", SECRET + "-2", "--from", "alice"]);
      await a.connect(relay.url);
      const shown = await within(1000, async () =>
        (await page.$$("#deliveries tr")).length > rowsBefore, "next delivery listed");
      console.log(`delivery listed on the page after ${shown} ms`);
      const detailHtml = await page.content();
      assert.ok(!detailHtml.includes(SECRET), "message content on the page");
      assert.ok(!detailHtml.includes(TOKEN), "token in the DOM");
      assert.ok(urls.every((u) => !u.includes(TOKEN)), "token in a URL");
      assert.deepEqual(await context.cookies(), []);

      const shots = process.env.C2C_SCREENSHOT_DIR;
      if (shots) await page.screenshot({ path: join(shots, "dashboard-1440.png"), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.waitForTimeout(600);  // one refresh at the new width
      const overflow = await page.evaluate(() =>
        document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `page scrolls sideways at 390 px by ${overflow} px`);
      assert.equal(await page.isVisible("#c-sent"), true);
      if (shots) await page.screenshot({ path: join(shots, "dashboard-390.png"), fullPage: true });
      assert.deepEqual(problems, [], "console errors");
      // Pushed, not polled: one long GET /dashboard/events (server-sent events) when the page
      // opened and one when the token changed it, and no /dashboard/state request at all.
      const count = (path) => urls.filter((u) => new URL(u).pathname === path).length;
      assert.equal(count("/dashboard/state"), 0, "the page polls");
      assert.equal(count("/dashboard/events"), 2, "event streams opened");

      // A wrong token is refused and shows nothing more (Chromium logs the 401 itself).
      await page.reload();
      await page.fill("#token", "wrong-token");
      await page.click("#unlock button");
      await within(2000, async () => (await page.textContent("#unlock-msg")) === "token refused",
        "wrong token refused");
      assert.equal(await page.isVisible("#peers"), false);
    } finally {
      if (context) await context.close();
      if (streamer) streamer.kill("SIGTERM");
      relay.child.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    }
  });
