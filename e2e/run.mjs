// End-to-end tests of chitra's web interface, run by `cargo test` (crates/cli/tests/web.rs)
// against `chitra serve` on a demo database:
//
//   node e2e/run.mjs BASE_URL AGENT_USERNAME
//
// Playwright (npm `playwright-core`) drives Debian's `chromium`; both are installed by `.ci/run`.
// Screenshots of each main screen go to e2e/screenshots/ (not committed).

import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const BASE = process.argv[2];
const AGENT = process.argv[3];
const PASSWORD = process.env.CHITRA_DEMO_PASSWORD || "chitra-demo-2018";
const OFFICER = "can.bo.ldtbxh";
const CHECKER = "truong.phong.ldtbxh";
const POST = "buu.dien.tinh";
if (!BASE || !AGENT) {
  console.error("usage: node run.mjs BASE_URL AGENT_USERNAME");
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, "screenshots");
mkdirSync(shots, { recursive: true });

const outside = [];
// Errors in the browser's console (a script failing, a blocked load), except the refusals the
// checks provoke on purpose (their status is checked where they happen).
const consoleErrors = [];
let step = "start";

function check(cond, message) {
  if (!cond) throw new Error(`${step}: ${message}`);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function newContext(browser) {
  // A 10-inch tablet in landscape.
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: "vi-VN" });
  const origin = new URL(BASE).origin;
  await ctx.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + "/") || url === origin) return route.continue();
    outside.push(url);
    return route.abort();
  });
  ctx.on("page", (page) => {
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
        consoleErrors.push(`${page.url()}: ${m.text()}`);
      }
    });
    page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  });
  ctx.setDefaultTimeout(60_000);
  ctx.setDefaultNavigationTimeout(120_000);
  return ctx;
}

async function login(ctx, user) {
  const page = await ctx.newPage();
  await page.goto(`${BASE}/login`);
  await page.fill("#f-username", user);
  await page.fill("#f-password", PASSWORD);
  await Promise.all([page.waitForLoadState("load"), page.click("#login button[type=submit]")]);
  const who = await page.locator("#who-am-i").textContent();
  check(who && who.includes(user), `signed in as ${user} (header says ${who})`);
  return page;
}

async function submit(page, formSelector) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click(`${formSelector} button[type=submit]`),
  ]);
  return response;
}

// Every control of the page has a label (keyboard and screen-reader users need them).
async function labelled(page) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
      .filter((el) => el.labels.length === 0 && !el.getAttribute("aria-label"))
      .map((el) => el.name || el.id)
  );
  check(unlabelled.length === 0, `every control has a label on ${page.url()}: ${unlabelled}`);
}

async function factOf(page, section, label) {
  const dts = page.locator(`#${section} dl.facts dt`);
  const n = await dts.count();
  for (let i = 0; i < n; i++) {
    if ((await dts.nth(i).textContent()).trim() === label) {
      return (await page.locator(`#${section} dl.facts dd`).nth(i).textContent()).trim();
    }
  }
  throw new Error(`${step}: no fact "${label}" in #${section}`);
}

// launch() gives the browser a fresh, temporary profile of its own.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});

try {
  // ---- Signing in: the home page is Vietnamese; bad input is refused beside the field.
  step = "sign-in page";
  const anon = await newContext(browser);
  const a = await anon.newPage();
  await a.goto(`${BASE}/`);
  check(a.url().includes("/login"), "the home page sends a stranger to sign in");
  check((await a.getAttribute("html", "lang")) === "vi", 'the home page is marked lang="vi"');
  await shot(a, "01-login");
  await labelled(a);
  let r = await submit(a, "#login");
  check(r.status() === 422, `an empty sign-in is refused with 422 (got ${r.status()})`);
  check(await a.locator("#username-error").isVisible(), "the user name's error is shown beside it");
  check(
    (await a.getAttribute("#f-username", "aria-describedby")) === "username-error",
    "the error is tied to its field (aria-describedby)"
  );
  await a.fill("#f-username", OFFICER);
  await a.fill("#f-password", "not the password");
  r = await submit(a, "#login");
  check(r.status() === 401, `a wrong password is refused (got ${r.status()})`);
  check(await a.locator("#login-error").isVisible(), "the refusal is shown on the form");

  step = "keyboard sign-in";
  // With the keyboard only: Tab to the user name, type, Tab to the password, type, Enter.
  const keysCtx = await newContext(browser);
  const k = await keysCtx.newPage();
  await k.goto(`${BASE}/login`);
  const focused = () => k.evaluate(() => document.activeElement && document.activeElement.id);
  for (let i = 0; i < 15 && (await focused()) !== "f-username"; i++) await k.keyboard.press("Tab");
  check((await focused()) === "f-username", "Tab reaches the user name");
  await k.keyboard.type(OFFICER);
  await k.keyboard.press("Tab");
  check((await focused()) === "f-password", `Tab goes on to the password (at ${await focused()})`);
  await k.keyboard.type(PASSWORD);
  await Promise.all([k.waitForNavigation(), k.keyboard.press("Enter")]);
  check((await k.locator("#who-am-i").textContent()).includes(OFFICER), "Enter signs in");
  await keysCtx.close();

  // ---- The officer: dashboard, register search ignoring case and diacritics, a beneficiary.
  step = "officer dashboard";
  const officerCtx = await newContext(browser);
  const o = await login(officerCtx, OFFICER);
  check((await o.getAttribute("html", "lang")) === "vi", "the dashboard is in Vietnamese");
  check(await o.locator("#current").isVisible(), "the dashboard shows the current period");
  check((await o.locator("svg.chart").count()) >= 2, "the dashboard draws its charts as SVG");
  const current = await o.locator("#current").textContent();
  check(/Tỷ lệ chi đúng lịch[\s\S]*\d+,\d\d% — [\d.]+ \/ [\d.]+/.test(current), `the dashboard gives the on-time rate against the contract window: ${current}`);
  await shot(o, "02-dashboard");

  step = "register search";
  await o.goto(`${BASE}/beneficiaries`);
  await o.fill("#f-search", "nguyen");
  // htmx swaps the results in place and then records the search in the address.
  await o.evaluate(() => { window.samePage = true; });
  await o.press("#f-search", "Enter");
  await o.waitForURL(/search=nguyen/);
  await o.waitForFunction(() => !document.querySelector(".htmx-request"));
  check(await o.evaluate(() => window.samePage === true), "the results came in place (htmx), without reloading");
  const rows = o.locator("#register-results tbody tr");
  check((await rows.count()) > 0, '"nguyen" finds beneficiaries');
  const names = await o.locator("#register-results tbody tr td:nth-child(2)").allTextContents();
  check(
    names.every((n) => n.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/gi, "d").toLowerCase().includes("nguyen")),
    `every name found by "nguyen" contains it, whatever its case and diacritics: ${names.slice(0, 5)}`
  );
  check(names.some((n) => n.includes("Nguyễn")), '"nguyen" finds "Nguyễn"');
  await shot(o, "03-register");
  await labelled(o);
  await o.goto(`${BASE}/beneficiaries?search=dang`);
  const dang = await o.locator("#register-results tbody tr td:nth-child(2)").allTextContents();
  check(dang.some((n) => n.includes("Đặng")), `"dang" finds "Đặng": ${dang.slice(0, 5)}`);
  await o.goto(`${BASE}/beneficiaries?search=nguyen`);
  await Promise.all([
    o.waitForNavigation(),
    o.locator("#register-results tbody tr td:nth-child(2) a").first().click(),
  ]);
  step = "beneficiary page";
  check((await o.locator("h1").textContent()).includes("Nguyễn"), "the beneficiary's page opens");
  for (const id of ["identity", "addresses", "decisions", "payments"]) {
    check(await o.locator(`#${id}`).isVisible(), `the page shows #${id}`);
  }
  const code = await factOf(o, "identity", "Mã");
  const birth = await factOf(o, "identity", "Ngày sinh");
  await shot(o, "04-beneficiary");
  await labelled(o);
  // A decision with bad input: the errors land beside the fields.
  await o.selectOption("#f-kind", "stop");
  await o.fill("#f-effective", "2018-13");
  await o.fill("#f-reason", "Thử");
  r = await submit(o, "#decision-form");
  check(r.status() === 422, `a bad decision is refused with 422 (got ${r.status()})`);
  check((await o.locator("#decision-form .field-error").count()) === 1, "one field error is shown");

  step = "new beneficiary form";
  await o.goto(`${BASE}/beneficiaries/new`);
  await o.fill("#f-full_name", "Trần Thị Thử");
  await o.fill("#f-birth_date", "1950-02-30");
  await o.selectOption("#f-sex", "nữ");
  await o.fill("#f-citizen_id", "083150000999");
  await o.fill("#f-commune", "28756");
  await o.fill("#f-category", "K5c");
  r = await submit(o, "#beneficiary-form");
  check(r.status() === 422, `a bad date of birth is refused with 422 (got ${r.status()})`);
  check(await o.locator("#birth_date-error").isVisible(), "the date of birth's error is beside it");
  check((await o.inputValue("#f-full_name")) === "Trần Thị Thử", "what was typed is kept");
  await shot(o, "05-new-beneficiary-error");
  await labelled(o);

  // ---- The month: generate (the officer), approve and fund (a second user), open (the post office).
  step = "generate the payroll";
  await o.goto(`${BASE}/payrolls`);
  const period = await o.inputValue("#f-period");
  await o.fill("#f-period", "2018-13");
  r = await submit(o, "#generate-form");
  check(r.status() === 422, `a bad month is refused with 422 (got ${r.status()})`);
  check(await o.locator("#period-error").isVisible(), "the month's error is beside it");
  const offices = await o.locator("#f-office_id option").evaluateAll((os) => os.map((x) => Number(x.value)));
  const office = String(Math.min(...offices));
  await o.selectOption("#f-office_id", office);
  await o.fill("#f-period", period);
  r = await submit(o, "#generate-form");
  check(/\/payrolls\/\d+$/.test(o.url()), `generating opens the new payroll (at ${o.url()})`);
  const runUrl = o.url();
  check((await factOf(o, "run", "Tình trạng")) === "Dự thảo", "the new payroll is a draft");
  check(await o.locator("#differences").isVisible(), "the differences from last month are shown");
  await shot(o, "06-payroll-draft");
  await labelled(o);
  r = await submit(o, "#step-approve");
  check(r.status() === 403, `whoever generated it may not approve it (got ${r.status()})`);
  check(await o.locator("#run .note.error").isVisible(), "the refusal says why");

  step = "approve and fund";
  const checkerCtx = await newContext(browser);
  const c = await login(checkerCtx, CHECKER);
  await c.goto(runUrl);
  r = await submit(c, "#step-approve");
  check(r.status() === 200, `a second user approves (got ${r.status()})`);
  check((await factOf(c, "run", "Tình trạng")) === "Đã phê duyệt", "the payroll is approved");
  check((await factOf(c, "run", "Người duyệt")) === CHECKER, "the approver is recorded");
  r = await submit(c, "#step-fund");
  check((await factOf(c, "run", "Tình trạng")) === "Đã chuyển kinh phí", "the fund advance is recorded");
  await shot(c, "07-payroll-funded");

  step = "open payment";
  const postCtx = await newContext(browser);
  const p = await login(postCtx, POST);
  await p.goto(runUrl);
  await submit(p, "#step-open");
  check((await factOf(p, "run", "Tình trạng")) === "Đang chi trả", "payment is open");
  await shot(p, "08-payroll-paying");

  // ---- The agent: my point, pay a line, the receipt; a second attempt is refused.
  step = "agent's screen";
  const agentCtx = await newContext(browser);
  const g = await login(agentCtx, AGENT);
  check(g.url().endsWith("/agent"), `the agent lands on their point's screen (at ${g.url()})`);
  await shot(g, "09-agent");
  const small = await g.evaluate(() =>
    [...document.querySelectorAll("#agent-lines a, main button, main input:not([type=hidden]), main select")]
      .filter((el) => el.getBoundingClientRect().height < 40)
      .map((el) => `${el.tagName}#${el.id || el.name || el.textContent.trim()}: ${el.getBoundingClientRect().height}px`)
  );
  check(small.length === 0, `the agent's touch targets are at least 40 px high: ${small.slice(0, 5)}`);
  await labelled(g);
  const payLinks = g.locator("#agent-lines a", { hasText: "Chi trả" });
  check((await payLinks.count()) > 0, "the agent's point has lines to pay");
  await Promise.all([g.waitForNavigation(), payLinks.first().click()]);
  const lineUrl = g.url();
  const lineCode = await factOf(g, "line", "Mã");
  // The same form, opened on a second tablet before the first pays.
  const g2 = await agentCtx.newPage();
  await g2.goto(lineUrl);
  await g.fill("#f-number", "123");
  r = await submit(g, "#pay-form");
  check(r.status() === 422, `a malformed citizen ID is refused with 422 (got ${r.status()})`);
  check(await g.locator("#number-error").isVisible(), "the citizen ID's error is beside it");
  await shot(g, "10-pay-error");
  await labelled(g);
  // The agent reads the card; the officer's page shows the whole number.
  await o.goto(`${BASE}/beneficiaries/${encodeURIComponent(lineCode)}`);
  const cardId = await factOf(o, "identity", "Số CCCD");
  check(/^\d{12}$/.test(cardId), `the officer sees the whole citizen ID (${cardId})`);
  await g.fill("#f-number", cardId);
  r = await submit(g, "#pay-form");
  check(await g.locator("#receipt").isVisible(), "the receipt is shown after paying");
  check((await g.locator("#line .note.ok").count()) === 1, "the payment is confirmed");
  await shot(g, "11-receipt");
  await g2.fill("#f-number", cardId);
  r = await submit(g2, "#pay-form");
  check(r.status() === 409, `a second payment of the line is refused with 409 (got ${r.status()})`);
  const refusal = await g2.locator("#line .note.error").textContent();
  check(refusal.includes("đã được chi trả"), `the refusal says the line is already paid: ${refusal}`);
  await shot(g2, "12-already-paid");

  step = "register by payment status";
  // The month being paid: the line just paid is among the paid, no longer among the due.
  await o.goto(`${BASE}/beneficiaries?month_status=paid&search=${encodeURIComponent(lineCode)}`);
  const paidCodes = await o.locator("#register-results tbody tr td:nth-child(1)").allTextContents();
  check(paidCodes.length === 1 && paidCodes[0] === lineCode, `the paid filter finds the line paid: ${paidCodes}`);
  await o.goto(`${BASE}/beneficiaries?month_status=due&search=${encodeURIComponent(lineCode)}`);
  check((await o.locator("#register-results tbody tr").count()) === 0, "the line paid is no longer due");
  await o.goto(`${BASE}/beneficiaries?month_status=due&search=nguyen`);
  const dueNames = await o.locator("#register-results tbody tr td:nth-child(2)").allTextContents();
  check(dueNames.length > 0 && dueNames.every((n) => n.includes("Nguy")), "the status filter combines with the search");

  step = "register by beneficiary status";
  await o.goto(`${BASE}/beneficiaries`);
  await o.selectOption("#f-status", "active");
  await o.press("#f-search", "Enter");
  await o.waitForURL(/status=active/);
  await o.waitForFunction(() => !document.querySelector(".htmx-request"));
  const statuses = await o.locator("#register-results tbody tr td:last-child").allTextContents();
  check(statuses.length > 0 && statuses.every((s) => s.trim() === "Đang hưởng"), `the status filter lists the active only: ${statuses.slice(0, 5)}`);
  await shot(o, "13-register-by-status");

  step = "agent and other points";
  const own = Number(AGENT.split(".").pop());
  r = await g.goto(`${BASE}/points/${own}`);
  check(r.status() === 200, `the agent opens their own point's page (got ${r.status()})`);
  // The point's payroll list of the month being paid, downloaded from its page as the agent
  // prints it to be signed.
  await g.goto(`${BASE}/points/${own}?period=${period}`);
  const pdfLink = g.locator('#point a[href*="/documents/payroll/"][href*="format=pdf"]');
  check((await pdfLink.count()) === 1, "the point's page links its payroll list as PDF");
  const [download] = await Promise.all([g.waitForEvent("download"), pdfLink.click()]);
  const pdfPath = await download.path();
  const head = readFileSync(pdfPath).subarray(0, 4).toString("latin1");
  check(download.suggestedFilename().endsWith(".pdf") && head === "%PDF", `the payroll list downloads as a PDF (${download.suggestedFilename()}, ${head})`);
  r = await g.goto(`${BASE}/points/${own + 1}`);
  check(r.status() === 403, `the agent may not open another point's page (got ${r.status()})`);
  await shot(g, "13-agent-forbidden");
  r = await g.goto(runUrl);
  check(r.status() === 403 || r.status() === 200, "the payroll page answers the agent");

  // ---- Close the period and read the settlement.
  step = "close and settle";
  await o.goto(runUrl);
  r = await submit(o, "#step-close");
  check(r.status() === 200, `the officer closes the period (got ${r.status()})`);
  check((await factOf(o, "run", "Tình trạng")) === "Đã kết thúc", "the period is closed");
  await o.goto(`${BASE}/settlement?period=${period}`);
  check(await o.locator("#verdict .note.ok").isVisible(), "the settlement balances");
  check((await o.locator("#points tbody tr").count()) > 0, "the settlement lists the points");
  await shot(o, "14-settlement");

  // ---- Reports (with CSV), anomalies, the journal, points and contracts.
  step = "reports";
  await o.goto(`${BASE}/reports`);
  check(await o.locator("#by-year").isVisible(), "the multi-year summary shows years");
  await shot(o, "15-reports");
  const csvHref = await o.locator("#by-area a[download]").getAttribute("href");
  const csv = await o.request.get(`${BASE}${csvHref}`);
  check(csv.headers()["content-type"].startsWith("text/csv"), "the table downloads as CSV");
  check((await csv.text()).includes("Họ") || (await csv.text()).split("\r\n").length > 2, "the CSV has rows");
  for (const [path, name] of [
    ["/anomalies", "16-anomalies"],
    ["/audit?verify=1", "17-audit"],
    ["/points", "18-points"],
    ["/contracts", "19-contracts"],
  ]) {
    r = await o.goto(`${BASE}${path}`);
    check(r.status() === 200, `${path} opens (got ${r.status()})`);
    await labelled(o);
    await shot(o, name);
  }
  await o.goto(`${BASE}/audit?verify=1`);
  check(await o.locator("#verify .note.ok").isVisible(), "the journal verifies as intact");
  // A contract with a bad fee is refused beside the field.
  await o.goto(`${BASE}/contracts`);
  await o.fill("#f-code", "BT-BĐ-THU");
  await o.fill("#f-name", "Hợp đồng thử");
  await o.fill("#f-post_office", "Bưu điện tỉnh Bến Tre");
  await o.fill("#f-area_code", "83");
  await o.fill("#f-fee", "nhiều");
  await o.fill("#f-valid_from", "2018-04");
  r = await submit(o, "#contract-form");
  check(r.status() === 422, `a bad fee is refused with 422 (got ${r.status()})`);
  check(await o.locator("#fee-error").isVisible(), "the fee's error is beside it");

  step = "schedules";
  // The post office sets a point's schedule; a bad one is refused beside the field.
  await p.goto(`${BASE}/points/${Number(AGENT.split(".").pop())}`);
  await p.fill("#set-schedule #f-period", "2018-04");
  await p.fill("#set-schedule #f-days", "40-50");
  r = await submit(p, "#schedule-form");
  check(r.status() === 422, `a bad schedule is refused with 422 (got ${r.status()})`);
  check(await p.locator("#days-error").isVisible(), "the days' error is beside them");
  await p.fill("#set-schedule #f-period", "2018-04");
  await p.fill("#set-schedule #f-days", "3-12");
  r = await submit(p, "#schedule-form");
  check((await p.locator("#schedules tbody").textContent()).includes("07:30"), "the schedule is set");
  await shot(p, "19b-point-schedule");

  step = "CSRF";
  // A change without the form's token is refused, and changes nothing.
  const forged = await o.request.post(`${BASE}/beneficiaries/new`, {
    form: { full_name: "Giả Mạo", birth_date: "1950-01-01", sex: "nam", citizen_id: "083050000777", commune: "28756", category: "K5c" },
    maxRedirects: 0,
  });
  check(forged.status() === 400, `a form without its CSRF token is refused (got ${forged.status()})`);
  await o.goto(`${BASE}/beneficiaries?search=gia%20mao`);
  check((await o.locator("#register-results tbody tr").count()) === 0, "the forged form registered nobody");

  step = "static files";
  const js = await o.request.get(`${BASE}${await o.getAttribute("script[src*=htmx]", "src")}`);
  check(js.status() === 200, "htmx is served by chitra itself");
  check((js.headers()["cache-control"] || "").includes("max-age=31536000"), "static files are cached long");

  // ---- The public lookup, without signing in.
  step = "public lookup";
  await a.goto(`${BASE}/lookup`);
  await a.fill("#f-code", code);
  await a.fill("#f-birth_year", "abc");
  r = await submit(a, "#lookup-form");
  check(r.status() === 422, `a bad year of birth is refused with 422 (got ${r.status()})`);
  check(await a.locator("#birth_year-error").isVisible(), "the year's error is beside it");
  await a.fill("#f-birth_year", birth.slice(0, 4));
  r = await submit(a, "#lookup-form");
  check(r.status() === 200, `the lookup finds the beneficiary (got ${r.status()})`);
  check((await a.locator("#lookup-result tbody tr").count()) > 0, "the lookup lists months");
  await shot(a, "20-lookup");
  await labelled(a);

  // ---- English on request.
  step = "language switch";
  await o.goto(`${BASE}/`);
  await Promise.all([o.waitForNavigation(), o.click("a[hreflang=en]")]);
  check((await o.getAttribute("html", "lang")) === "en", 'the switch gives lang="en"');
  check((await o.locator("nav.menu").textContent()).includes("Register"), "the menu is in English");
  await shot(o, "21-dashboard-en");

  step = "nothing from outside";
  check(outside.length === 0, `no page loads anything from outside the server: ${outside.join(", ")}`);
  check(consoleErrors.length === 0, `no errors in the browser's console: ${consoleErrors.join(" | ")}`);
  console.log("e2e: all checks passed");
} catch (e) {
  console.error(`e2e FAILED: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
