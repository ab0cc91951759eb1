// The operator console end to end in real Chromium against `faceproof serve`: login (keyboard
// only, one-time password then a forced change), the list and its filters, a session's detail
// (images never cached, signals chart, FAR), a review, the dashboard, the audit log and its
// verification (and a tampered row named by the CLI), Vietnamese; axe-core on every screen.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { startServer, seedSessions, browser, axeViolations, shot, cli } from "../testlib/harness.mjs";

let server;
let seeded;
let b;
let password;
const EMAIL = "ana@demo.vn";
const NEW_PASSWORD = "a long console password";

before(async () => {
  server = await startServer();
  seeded = await seedSessions(server);
  const added = cli(["operator", "add", "demo", EMAIL, "--role", "admin"]);
  assert.equal(added.status, 0, added.stdout + added.stderr);
  password = added.json.one_time_password;
  assert.ok(password.length >= 16);
  b = await browser();
});

after(async () => {
  await b?.close();
  await server?.stop();
});

async function noSeriousViolations(where) {
  assert.deepEqual(await axeViolations(b.page), [], where);
}

test("login with the keyboard, forced password change, dashboard", async () => {
  const { page } = b;
  await page.goto(`${server.base}/console/`);
  await page.locator("#tenant").waitFor();
  await noSeriousViolations("login");
  await shot(page, "login");
  // Wrong password first: refused, says so.
  await page.keyboard.type("demo");
  await page.keyboard.press("Tab");
  await page.keyboard.type(EMAIL);
  await page.keyboard.press("Tab");
  await page.keyboard.type("not the password");
  await page.keyboard.press("Enter");
  await page.locator("[role=alert]", { hasText: "Wrong tenant" }).waitFor();
  await page.fill("#password", password);
  await page.keyboard.press("Enter");
  await page.locator("#current").waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.id), "current");
  await page.keyboard.type(password);
  await page.keyboard.press("Tab");
  await page.keyboard.type(NEW_PASSWORD);
  await page.keyboard.press("Tab");
  await page.keyboard.type(NEW_PASSWORD);
  await page.keyboard.press("Enter");
  await page.locator("h1", { hasText: "Dashboard" }).waitFor();
  await page.locator("svg[aria-label^='Sessions per day']").waitFor();
  const label = await page.locator("svg[aria-label^='Sessions per day']").getAttribute("aria-label");
  assert.match(label, /fpt 2/, label);
  await noSeriousViolations("dashboard");
  await shot(page, "dashboard");
  // The cookie is invisible to scripts.
  assert.equal(await page.evaluate(() => document.cookie), "");
});

test("list: three sessions, filters by verdict and code, keyboard to the detail", async () => {
  const { page } = b;
  await page.goto(`${server.base}/console/#/sessions`);
  await page.locator("tbody tr").nth(2).waitFor();
  assert.equal(await page.locator("tbody tr").count(), 3);
  await noSeriousViolations("list");
  await shot(page, "sessions");
  await page.fill("#code", "face_mismatch");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => location.hash.includes("code=face_mismatch"));
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 1);
  assert.match(await page.locator("tbody tr").first().textContent(), /face_mismatch/);
  await page.selectOption("#api", "advance");
  await page.fill("#code", "");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => location.hash.includes("api=advance"));
  await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 1);
  // Keyboard: focus the row's link and press Enter.
  await page.locator("tbody tr a").first().focus();
  await page.keyboard.press("Enter");
  await page.locator("h1", { hasText: "Session" }).waitFor();

  // A slow detail must not paint over the list the operator moved on to: hold the detail's
  // answer until the list is on screen, then let it arrive.
  const detailUrl = /\/console\/api\/sessions\/[^/?]+$/;
  let release;
  const held = new Promise((r) => (release = r));
  let arrived;
  const answered = new Promise((r) => (arrived = r));
  await page.route(detailUrl, async (route) => {
    await held;
    await route.continue();
  });
  page.on("requestfinished", (r) => { if (detailUrl.test(r.url())) arrived(); });
  await page.reload();
  await page.evaluate(() => { location.hash = "#/sessions"; });
  await page.locator("tbody tr").nth(2).waitFor();
  release();
  await answered;
  await page.evaluate(() => new Promise((r) => setTimeout(r, 200)));
  assert.equal(await page.locator("tbody tr").count(), 3, "the late detail replaced the list");
  await page.unroute(detailUrl);
});

test("detail: images decrypted and never cached, verdict, vendor summary; review recorded", async () => {
  const { page } = b;
  await page.goto(`${server.base}/console/#/sessions?api=advance`);
  await page.locator("tbody tr a").first().waitFor();
  const imageHeaders = [];
  page.on("response", (r) => {
    if (r.url().includes("/artefacts/")) imageHeaders.push(r.headers()["cache-control"]);
  });
  await page.locator("tbody tr a").first().click();
  await page.locator(".images img").first().waitFor();
  // A fresh document, so the images are fetched again (a document reuses its own images).
  await page.reload();
  await page.locator(".images img").first().waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll(".images img")].every((i) => i.complete && i.naturalWidth > 0));
  assert.equal(await page.locator(".images img").count(), 3);
  assert.ok(imageHeaders.length >= 3 && imageHeaders.every((c) => c === "no-store"), JSON.stringify(imageHeaders));
  assert.match(await page.textContent("main"), /summary the ADVANCE result is built from/);
  await noSeriousViolations("detail advance");
  // Reject with a reason and a note, by keyboard-reachable controls.
  await page.check("#d-rejected");
  await page.selectOption("#reason", "suspicious_behaviour");
  await page.fill("#note", "two different lighting setups");
  await page.click("form[aria-label=Decide] button[type=submit]");
  await page.locator("#reviews li", { hasText: "two different lighting setups" }).waitFor();
  assert.match(await page.textContent("#reviews"), /rejected/);
  await page.locator("#reviews").evaluate((el) => el.closest("section").scrollIntoView());
  await shot(page, "detail-review");
  // Blocklist: 1:N is off for this tenant, so the session kept no face template.
  await page.click("button.danger");
  await page.locator("p[role=status]", { hasText: "409" }).waitFor();

  // The FPT mismatch: the signals chart and the match's FAR.
  await page.goto(`${server.base}/console/#/sessions?code=face_mismatch`);
  await page.locator("tbody tr a").first().click();
  await page.locator("svg[aria-label^='Signals']").waitFor();
  const signals = await page.locator("svg[aria-label^='Signals']").getAttribute("aria-label");
  assert.match(signals, /pad_model|nonrigid|planarity/, signals);
  assert.match(await page.textContent("main"), /False-accept rate at this score/);
  assert.match(await page.textContent("main"), /As sent to the client/);
  await noSeriousViolations("detail fpt");
  await shot(page, "detail-signals");
});

test("audit: entries for views and the decision, the chain verifies; a tampered row is named", async () => {
  const { page } = b;
  await page.goto(`${server.base}/console/#/audit`);
  await page.locator("tbody tr").first().waitFor();
  const text = await page.textContent("tbody");
  for (const action of ["login", "session.viewed", "artefact.viewed", "review.decided", "operator.added"]) assert.match(text, new RegExp(action.replace(".", "\\.")), action);
  assert.match(text, /ana@demo\.vn/, "actors are shown by email");
  await page.click("#verify");
  await page.locator("#verify-result", { hasText: "Chain intact" }).waitFor();
  await noSeriousViolations("audit");
  await shot(page, "audit");
  const ok = cli(["audit", "verify", "demo"]);
  assert.equal(ok.status, 0, ok.stdout);
  assert.equal(ok.json.ok, true);
  // Tamper with entry 3 through the database file itself: the CLI names it, exit status 1.
  const db = join(server.home, "faceproof.db");
  try {
    execFileSync("sqlite3", [db, "UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3"]);
  } catch (e) {
    if (e.code === "ENOENT") return; // no sqlite3 CLI: the Rust suite tampers instead
    throw e;
  }
  const broken = cli(["audit", "verify", "demo"]);
  assert.equal(broken.status, 1, broken.stdout);
  assert.equal(broken.json.first_broken.seq, 3, broken.stdout);
  await page.click("#verify");
  await page.locator("#verify-result", { hasText: "Chain broken at entry 3" }).waitFor();
});

test("Vietnamese: the language switch relabels the app", async () => {
  const { page } = b;
  await page.goto(`${server.base}/console/#/sessions`);
  await page.locator("tbody tr").first().waitFor();
  await page.click("header button[lang=vi]");
  await page.locator("h1", { hasText: "Phiên" }).waitFor();
  assert.equal(await page.evaluate(() => document.documentElement.lang), "vi");
  await page.locator("label[for=outcome]", { hasText: "Kết quả" }).waitFor();
  await noSeriousViolations("list vi");
  await shot(page, "sessions-vi");
});

test("the API reference at /docs is Swagger UI over /openapi.json, from the service itself", async () => {
  const { page } = b;
  const elsewhere = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(server.base)) elsewhere.push(r.url());
  });
  await page.goto(`${server.base}/docs`);
  // Every route of the document, with the seeds' samples: the FPT liveness operation is one.
  await page.locator(".opblock-summary-path", { hasText: "/vision/ekyc/liveness" }).first().waitFor();
  const operations = await page.locator(".opblock").count();
  const doc = await (await fetch(`${server.base}/openapi.json`)).json();
  const documented = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0);
  assert.equal(operations, documented);
  assert.deepEqual(elsewhere, [], "nothing loaded from another origin");
  await shot(page, "apidocs");
});
