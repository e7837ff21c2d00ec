// Drives the dashboard in headless Chromium against a running local stack.
// Started by local/tests/dashboard.rs, which owns the stack and its Redis:
//
//   node dashboard.mjs <scenario>
//
// scenarios: `jobs` (progress, cancel, requeue, purge, every view),
// `lifecycle` (a scheduled job's countdown and Run now, Requeue all failed,
// the Schedules page with Pause, Resume and Delete), `token`
// (the stack has API_TOKEN set) and `docs` (/docs sends the token to its own
// origin only; the stack has API_TOKEN set). Every scenario fails on an
// error in the page or anything the pages' Content-Security-Policy blocks. Environment: TASKQ_URL (the API's
// base URL), CHROMIUM (the browser), ARTIFACTS (where screenshots go),
// FAILED_JOB_ID (jobs, lifecycle: a job that has failed), SCHEDULED_JOB_ID and
// SCHEDULE_NAME (lifecycle), API_TOKEN (token).
//
// Every wait is on a condition, with a generous deadline; the first failed
// step throws, and the process exits non-zero with what was expected.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";

const scenario = process.argv[2];
const base = need("TASKQ_URL").replace(/\/$/, "");
const artifacts = need("ARTIFACTS");
const WAIT = 30_000;

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function step(what) {
  console.log(`[dashboard ${scenario}] ${what}`);
}

// Polls `fn` until it returns a truthy value; throws after `ms`.
async function until(what, fn, ms = WAIT) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for: ${what}${last ? ` (last error: ${last.message})` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function api(method, path, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function job(id, token) {
  return api("GET", `/tasks/${id}`, null, token);
}

async function enqueue(body, token) {
  const r = await api("POST", "/tasks", body, token);
  if (!r.job_id || r.duplicate) throw new Error(`enqueue ${JSON.stringify(body)}: ${JSON.stringify(r)}`);
  return r.job_id;
}

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = join(artifacts, `${scenario}-${String(shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  step(`screenshot ${file}`);
}

/** Runs `fn` with a fresh page of a new browser; fails on any error in the
 * page, and leaves a FAILED screenshot when something goes wrong. */
async function withPage(fn) {
  const browser = await chromium.launch({
    executablePath: need("CHROMIUM"),
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // The pages run under a Content-Security-Policy: anything it blocks is a bug.
  // Chromium reports a refusal on the console; the event catches the rest.
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`));
  });
  page.on("console", (m) => {
    if (/Content Security Policy|CSP violation/i.test(m.text())) errors.push(m.text());
  });
  try {
    await fn(page);
    if (errors.length) throw new Error(`errors in the page: ${errors.join("; ")}`);
  } catch (e) {
    await screenshot(page, "FAILED").catch(() => {});
    if (errors.length) console.error(`errors in the page: ${errors.join("; ")}`);
    throw e;
  } finally {
    await context.close();
    await browser.close();
  }
}

// ------------------------------------------------------------------ jobs

async function jobsScenario() {
  const failedId = need("FAILED_JOB_ID");
  const failed = await job(failedId);
  if (failed.status !== "failed") throw new Error(`FAILED_JOB_ID is ${failed.status}, want failed`);

  step("a few quick jobs, for the throughput chart");
  const quick = [];
  for (const user of [1, 2, 3]) quick.push(await enqueue({ task_name: "task_a", duration: 0.1, payload: { user_id: user } }));
  await until("quick jobs finished", async () => (await Promise.all(quick.map((id) => job(id)))).every((j) => j.status === "finished"));

  step("one long job running (the worker runs one job at a time), three waiting behind it");
  const running = await enqueue({ task_name: "long_task", duration: 120, payload: { role: "running" }, high: true });
  await until("the long job started", async () => (await job(running)).status === "started");
  const waiting = [];
  for (const n of [1, 2, 3]) waiting.push(await enqueue({ task_name: "long_task", duration: 120, payload: { n } }));

  await withPage(async (page) => {
    step("overview: queues with counts, the chart, the worker");
    await page.goto(`${base}/dashboard`);
    await page.getByRole("link", { name: "3 queued in default" }).waitFor();
    await page.getByRole("link", { name: "1 started in high" }).waitFor();
    await until("the chart counts the finished and failed jobs", async () => {
      const desc = await page.locator("#chart-desc").textContent();
      return /^3 finished and 1 failed in the last \d+ minutes/.test(desc || "");
    });
    await page.getByText("1 live worker, 1 busy").waitFor();
    await screenshot(page, "overview");

    step("live refresh: the interval is shown and adjustable, paused while the tab is hidden");
    const status = page.locator("#live-status");
    await until("status shows the last update", async () => /^updated /.test(await status.textContent()));
    await page.getByLabel("Refresh", { exact: true }).selectOption("1000");
    await page.evaluate(() => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await until("paused while hidden", async () => (await status.textContent()) === "paused while the tab is hidden");
    const refreshed = page.waitForResponse((r) => r.url().endsWith("/queues"));
    await page.evaluate(() => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
      document.dispatchEvent(new Event("visibilitychange"));
    });
    await refreshed;
    await until("live again", async () => /^updated /.test(await status.textContent()));

    step("jobs: the queued jobs of default, newest first");
    await page.getByRole("link", { name: "3 queued in default" }).click();
    await page.getByRole("caption").filter({ hasText: "Queued jobs in default, newest first" }).waitFor();
    const rows = page.locator("#jobs-table tbody tr");
    await until("three rows", async () => (await rows.count()) === 3);
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.job));
    if (JSON.stringify(ids) !== JSON.stringify([...waiting].reverse())) {
      throw new Error(`jobs not newest first: ${ids} vs ${waiting}`);
    }
    await screenshot(page, "jobs-queued");

    step("search: by task, then by id");
    const search = page.getByRole("searchbox", { name: "Search by job id or task" });
    await search.fill("no_such_task");
    await search.press("Enter");
    await page.getByText("No queued jobs in default match “no_such_task”.").waitFor();
    await search.fill(waiting[1]);
    await search.press("Enter");
    await page.getByRole("heading", { level: 1, name: `Job ${waiting[1]}` }).waitFor();
    await page.locator(".actions", { hasText: "Queued" }).waitFor();

    step("workers: the worker with its current job and its progress");
    await page.getByRole("link", { name: "Workers", exact: true }).click();
    const worker = page.locator("#workers-table tbody tr");
    await worker.first().waitFor();
    await page.getByRole("progressbar", { name: `Progress of job ${running.slice(0, 8)}…` }).waitFor();
    await until("heartbeat, processed, uptime shown", async () => {
      const text = await worker.first().textContent();
      return /s ago/.test(text) && text.includes("high, default") && text.includes("busy");
    });
    await screenshot(page, "workers");

    step("job: the running job's progress bar advances");
    await page.getByRole("link", { name: new RegExp(`^Job ${running}`) }).click();
    await page.getByRole("heading", { level: 1, name: `Job ${running}` }).waitFor();
    const bar = page.getByRole("progressbar", { name: "Job progress" });
    await bar.waitFor();
    const first = Number(await bar.getAttribute("aria-valuenow"));
    await until("progress advances in the page", async () => Number(await bar.getAttribute("aria-valuenow")) > first);
    const second = Number(await bar.getAttribute("aria-valuenow"));
    await until("and again", async () => Number(await bar.getAttribute("aria-valuenow")) > second);
    await page.getByRole("heading", { name: "Timeline" }).waitFor();
    await screenshot(page, "job-running");

    step("purge: asks first; keeping them changes nothing; confirming cancels the waiting jobs");
    await page.getByRole("link", { name: "Overview", exact: true }).click();
    const purge = page.getByRole("button", { name: "Purge queue default" });
    await purge.click();
    const dialog = page.getByRole("dialog", { name: "Purge queue default?" });
    await dialog.waitFor();
    await screenshot(page, "purge-confirm");
    await dialog.getByRole("button", { name: "Keep them" }).click();
    await dialog.waitFor({ state: "hidden" });
    if ((await job(waiting[0])).status !== "queued") throw new Error("keeping them purged anyway");
    await purge.click();
    await dialog.getByRole("button", { name: "Purge default" }).click();
    await page.getByRole("status").filter({ hasText: "Purged 3 jobs from default." }).waitFor();
    await until("the API shows them canceled", async () =>
      (await Promise.all(waiting.map((id) => job(id)))).every((j) => j.status === "canceled"));
    const queues = await api("GET", "/queues");
    const def = queues.queues.find((q) => q.name === "default");
    if (def.count !== 0) throw new Error(`default still has ${def.count} jobs`);
    await page.getByRole("link", { name: "0 queued in default" }).waitFor();
    await page.getByRole("link", { name: "3 canceled in default" }).waitFor();
    await screenshot(page, "overview-purged");

    step("cancel: the running job stops");
    await page.goto(`${base}/dashboard#/jobs/${running}`);
    const cancel = page.getByRole("button", { name: "Cancel job" });
    await cancel.click();
    await until("the API shows it canceled", async () => (await job(running)).status === "canceled");
    await page.locator(".actions", { hasText: "Canceled" }).waitFor();
    await page.getByRole("button", { name: "Requeue job" }).waitFor();
    const stopped = await job(running);
    if (!stopped.progress || stopped.progress.done >= stopped.progress.total) {
      throw new Error(`canceled job ran to its end: ${JSON.stringify(stopped.progress)}`);
    }
    await until("the worker is idle", async () => (await api("GET", "/workers")).workers.every((w) => w.current_jobs.length === 0));
    await screenshot(page, "job-canceled");

    step("requeue: the failed job goes back on its queue");
    await page.getByRole("link", { name: "Jobs", exact: true }).click();
    await page.getByLabel("Queue", { exact: true }).selectOption("default");
    await page.getByLabel("State", { exact: true }).selectOption("failed");
    await page.getByRole("caption").filter({ hasText: "Failed jobs in default" }).waitFor();
    await page.locator(`#jobs-table tr[data-job="${failedId}"]`).waitFor();
    await screenshot(page, "jobs-failed");
    await page.getByRole("link", { name: new RegExp(`^Job ${failedId}`) }).click();
    await page.getByRole("heading", { name: "Error" }).waitFor();
    await page.getByText("timeout", { exact: true }).waitFor();
    await screenshot(page, "job-failed");
    await page.getByRole("button", { name: "Requeue job" }).click();
    await page.getByRole("status").filter({ hasText: "Job requeued on default." }).waitFor();
    const again = await until("the API shows it requeued", async () => {
      const j = await job(failedId);
      return j.enqueued_at !== failed.enqueued_at && j;
    });
    step(`requeued: now ${again.status}, attempts ${again.attempts}`);
    // It runs again and fails again (its timeout is shorter than its work).
    await until("it ran and failed again", async () => {
      const j = await job(failedId);
      return j.status === "failed" && j.started_at > again.enqueued_at;
    }, 60_000);
    await page.getByText("Requeued", { exact: true }).waitFor();
    await page.locator(".actions", { hasText: "Failed" }).waitFor();
    await screenshot(page, "job-requeued");

    step("API errors are shown in the page");
    await page.goto(`${base}/dashboard#/jobs?queue=nope&state=queued`);
    await page.getByRole("alert").filter({ hasText: 'GET /jobs: 404 queue "nope" not found' }).waitFor();
    await page.getByText("Not loaded: see the error above.").waitFor();
    await page.locator("#live-status", { hasText: "update failed" }).waitFor();
    await screenshot(page, "api-error");
    await page.goto(`${base}/dashboard#/jobs/00000000-0000-4000-8000-000000000000`);
    await page.getByRole("heading", { name: "No such job" }).waitFor();

    step("keyboard: tab to the first count link and open it with Enter");
    await page.goto(`${base}/dashboard`);
    await page.getByRole("link", { name: "0 queued in high" }).waitFor();
    let focused = "";
    for (let i = 0; i < 20 && focused !== "0 queued in high"; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => document.activeElement && document.activeElement.getAttribute("aria-label"));
    }
    if (focused !== "0 queued in high") throw new Error("could not reach the first count link with Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("caption").filter({ hasText: "Queued jobs in high" }).or(page.getByText("No queued jobs in high.")).waitFor();

    step("a phone-sized screen");
    await page.setViewportSize({ width: 390, height: 844 });
    // With a trailing slash, too: the API is still found beside the page.
    await page.goto(`${base}/dashboard/`);
    await page.getByRole("link", { name: "3 canceled in default" }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) throw new Error(`the page is ${overflow}px wider than a phone screen`);
    await screenshot(page, "overview-phone");
    await page.goto(`${base}/dashboard#/jobs/${failedId}`);
    await page.getByRole("heading", { name: "Timeline" }).waitFor();
    await screenshot(page, "job-phone");

    step("pages: 52 more canceled jobs in default make two pages; Older and Newer walk them");
    await page.setViewportSize({ width: 1280, height: 900 });
    const many = [];
    for (let n = 0; n < 52; n++) many.push(await enqueue({ task_name: "long_task", duration: 120, payload: { page: n } }));
    await api("DELETE", "/queues/default/purge");
    // The idle worker may have started one before the purge.
    for (const id of many) if ((await job(id)).status === "started") await api("DELETE", `/tasks/${id}`);
    await until("all 52 canceled", async () => (await Promise.all(many.map((id) => job(id)))).every((j) => j.status === "canceled"));
    await page.goto(`${base}/dashboard#/jobs?queue=default&state=canceled`);
    await page.getByRole("caption").filter({ hasText: "Canceled jobs in default" }).waitFor();
    const rowIds = () => page.locator("#jobs-table tbody tr").evaluateAll((trs) => trs.map((tr) => tr.dataset.job));
    const page1 = await until("a full first page", async () => { const r = await rowIds(); return r.length === 50 && r; });
    await page.getByRole("button", { name: "Older →" }).click();
    const page2 = await until("the second page", async () => { const r = await rowIds(); return r.length === 5 && r; });
    const all = new Set([...page1, ...page2]);
    if (all.size !== 55 || !many.every((id) => all.has(id))) throw new Error(`pages repeat or miss jobs: ${all.size} distinct`);
    if (!(await page.getByRole("button", { name: "Older →" }).isDisabled())) throw new Error("Older is enabled on the last page");
    await screenshot(page, "jobs-page-2");
    await page.getByRole("button", { name: "← Newer" }).click();
    await until("back on the first page", async () => JSON.stringify(await rowIds()) === JSON.stringify(page1));
  });
}

// ------------------------------------------------------------------ lifecycle

// A scheduled job (SCHEDULED_JOB_ID, due in ten minutes), a failed one
// (FAILED_JOB_ID) and a schedule (SCHEDULE_NAME), all in queue default,
// made by the test before the page opens.
async function lifecycleScenario() {
  const scheduledId = need("SCHEDULED_JOB_ID");
  const failedId = need("FAILED_JOB_ID");
  const name = need("SCHEDULE_NAME");
  const scheduled = await job(scheduledId);
  if (scheduled.status !== "scheduled") throw new Error(`SCHEDULED_JOB_ID is ${scheduled.status}, want scheduled`);
  const failed = await job(failedId);

  await withPage(async (page) => {
    step("overview: the new states are counted");
    await page.goto(`${base}/dashboard`);
    await page.getByRole("link", { name: "1 scheduled in default" }).waitFor();
    await page.getByRole("link", { name: "0 retrying in default" }).waitFor();
    await page.getByRole("link", { name: "1 failed in default" }).waitFor();

    step("scheduled jobs: run_at and a live countdown");
    await page.getByRole("link", { name: "1 scheduled in default" }).click();
    await page.getByRole("caption").filter({ hasText: "Scheduled jobs in default, soonest due first" }).waitFor();
    const row = page.locator(`#jobs-table tr[data-job="${scheduledId}"]`);
    const countdown = row.locator(".countdown");
    const first = await countdown.textContent();
    if (!/^runs in (9|10) min \d\d s$/.test(first)) throw new Error(`countdown reads ${JSON.stringify(first)}`);
    await until("the countdown ticks", async () => (await countdown.textContent()) !== first, 5000);
    await row.locator("time").first().waitFor();
    await screenshot(page, "jobs-scheduled");

    step("Run now puts it on its queue, and the worker runs it");
    await page.getByRole("button", { name: `Run job ${scheduledId} now` }).click();
    await page.getByRole("status").filter({ hasText: "is on default now." }).waitFor();
    await until("the API shows it out of the scheduled set", async () => (await job(scheduledId)).status !== "scheduled");
    await until("it ran", async () => (await job(scheduledId)).status === "finished", 60_000);
    await page.getByText("No scheduled jobs in default.").waitFor();
    await page.goto(`${base}/dashboard#/jobs/${scheduledId}`);
    await page.locator(".actions", { hasText: "Finished" }).waitFor();

    step("dead letters: Requeue all failed, after a confirmation");
    await page.goto(`${base}/dashboard#/jobs?queue=default&state=failed`);
    await page.locator(`#jobs-table tr[data-job="${failedId}"]`).waitFor();
    await page.getByRole("button", { name: `Requeue job ${failedId}` }).waitFor();
    await screenshot(page, "jobs-failed-requeue-all");
    await page.getByRole("button", { name: "Requeue all failed jobs in default" }).click();
    const dialog = page.getByRole("dialog", { name: "Requeue all failed jobs in default?" });
    await dialog.getByRole("button", { name: "Requeue them" }).click();
    await page.getByRole("status").filter({ hasText: "Requeued 1 failed job in default." }).waitFor();
    await until("the API shows it requeued", async () => (await job(failedId)).enqueued_at !== failed.enqueued_at);

    step("schedules: listed with cron, zone and next runs; Pause and Resume; Delete");
    await page.getByRole("link", { name: "Schedules", exact: true }).click();
    const srow = page.locator(`#schedules-table tr[data-schedule="${name}"]`);
    await srow.waitFor();
    for (const text of ["*/5 * * * *", "Europe/Berlin", "Active"]) await srow.getByText(text, { exact: true }).waitFor();
    await srow.getByText("long_task").waitFor();
    await srow.locator(".countdown").waitFor();
    await screenshot(page, "schedules");
    await page.getByRole("button", { name: `Pause schedule ${name}` }).click();
    await page.getByRole("status").filter({ hasText: `Schedule ${name} paused.` }).waitFor();
    await srow.getByText("Paused", { exact: true }).waitFor();
    await srow.getByText("none while paused").waitFor();
    const paused = await api("GET", `/schedules/${name}`);
    if (paused.paused !== true || paused.next_runs.length !== 0) throw new Error(`after Pause: ${JSON.stringify(paused)}`);
    await screenshot(page, "schedule-paused");
    await page.getByRole("button", { name: `Resume schedule ${name}` }).click();
    await srow.getByText("Active", { exact: true }).waitFor();
    if ((await api("GET", `/schedules/${name}`)).paused !== false) throw new Error("Resume left it paused");
    await page.getByRole("button", { name: `Delete schedule ${name}` }).click();
    await page.getByRole("dialog", { name: `Delete schedule ${name}?` }).getByRole("button", { name: `Delete ${name}` }).click();
    await page.locator("#schedules-empty").waitFor();
    const left = await api("GET", "/schedules");
    if (left.schedules.length !== 0) throw new Error(`after Delete: ${JSON.stringify(left)}`);
  });
}

// ------------------------------------------------------------------ token

async function tokenScenario() {
  const token = need("API_TOKEN");
  const unauth = await fetch(`${base}/queues`);
  if (unauth.status !== 401) throw new Error(`GET /queues without a token: ${unauth.status}, want 401`);
  const id = await enqueue({ task_name: "long_task", duration: 120, payload: { role: "token" } }, token);

  await withPage(async (page) => {
    step("the page asks for the token");
    await page.goto(`${base}/dashboard`);
    const dialog = page.getByRole("dialog", { name: "API token needed" });
    await dialog.waitFor();
    await page.locator("#live-status", { hasText: "waiting for the API token" }).waitFor();
    await screenshot(page, "token-prompt");

    step("a wrong token is refused, and the page asks again");
    await dialog.getByLabel("API token").fill("not-the-token");
    await dialog.getByRole("button", { name: "Use token" }).click();
    await dialog.getByText("The API refused that token.").waitFor();
    await screenshot(page, "token-refused");

    step("'Not now' leaves a way back to the prompt");
    await dialog.getByRole("button", { name: "Not now" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Enter the API token" }).click();
    await dialog.waitFor();

    step("the right token: the page works, and the token stays in this tab's session storage");
    const sent = page.waitForRequest((r) => r.url().endsWith("/queues") && r.headers().authorization === `Bearer ${token}`);
    await dialog.getByLabel("API token").fill(token);
    await dialog.getByRole("button", { name: "Use token" }).click();
    await sent;
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("link", { name: /^1 (queued|started) in default$/ }).waitFor();
    const stored = await page.evaluate(() => sessionStorage.getItem("taskq-token"));
    if (stored !== token) throw new Error(`sessionStorage holds ${stored}`);
    await screenshot(page, "token-accepted");

    step("actions carry the token too");
    await page.goto(`${base}/dashboard#/jobs/${id}`);
    await page.getByRole("button", { name: "Cancel job" }).click();
    await until("the API shows it canceled", async () => (await job(id, token)).status === "canceled");
    await page.locator(".actions", { hasText: "Canceled" }).waitFor();

  });
}

// ------------------------------------------------------------------ docs

// A server on another origin that records every request and would serve
// anything to anyone (CORS open), as a thief's would.
async function otherOrigin(spec) {
  const seen = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization || null });
    res.setHeader("access-control-allow-origin", "*");
    res.setHeader("access-control-allow-headers", "*");
    res.setHeader("access-control-allow-methods", "*");
    res.setHeader("content-type", "application/json");
    res.end(req.method === "OPTIONS" ? "" : JSON.stringify(spec));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => server.close() };
}

async function docsScenario() {
  const token = need("API_TOKEN");
  const spec = await api("GET", "/openapi.json", null, token);
  const other = await otherOrigin(spec);
  try {
    await withPage(async (page) => {
      step("the page's answer carries its policy and the protective headers");
      const res = await page.goto(`${base}/docs`);
      const h = res.headers();
      for (const [name, want] of [["x-content-type-options", /^nosniff$/], ["x-frame-options", /^DENY$/],
        ["referrer-policy", /^no-referrer$/], ["content-security-policy", /script-src 'sha256-.*connect-src 'self'.*frame-ancestors 'none'/]]) {
        if (!want.test(h[name] || "")) throw new Error(`/docs ${name}: ${h[name]}`);
      }

      step("with the token typed in, the page works against its own API");
      await page.locator("#token").fill(token);
      await page.locator("#token").dispatchEvent("change");
      await page.locator("details.op", { hasText: "/queues" }).first().waitFor();
      const queues = page.locator("details.op.GET", { has: page.locator(".path", { hasText: /^\/queues$/ }) });
      await queues.locator("summary").click();
      const sent = page.waitForRequest((r) => r.url() === `${base}/queues` && r.headers().authorization === `Bearer ${token}`);
      await queues.getByRole("button", { name: "Execute" }).click();
      await sent;
      await queues.locator("h4", { hasText: /^Response 200 / }).waitFor();
      await screenshot(page, "docs-execute");

      step("?spec= naming another origin loads nothing from it");
      await page.goto(`${base}/docs?spec=${encodeURIComponent(`${other.url}/openapi.json`)}`);
      await page.getByText("The spec parameter is not supported").waitFor();
      await page.goto(`${base}/docs?spec=${other.url}/openapi.json`);
      await page.getByText("The spec parameter is not supported").waitFor();
      if ((await page.locator("#token").inputValue()) !== token) throw new Error("the token did not stay in the tab");

      step("an operation whose path is another origin's URL is not sent there");
      const hostile = structuredClone(spec);
      hostile.paths[`${other.url}/steal`] = { get: { summary: "steal", responses: { 200: { description: "ok" } } } };
      hostile.paths[`//127.0.0.1:${new URL(other.url).port}/steal2`] = hostile.paths[`${other.url}/steal`];
      await page.route(`${base}/openapi.json`, (route) => route.fulfill({ json: hostile }));
      await page.goto(`${base}/docs`);
      for (const path of [`${other.url}/steal`, `//127.0.0.1:${new URL(other.url).port}/steal2`]) {
        const op = page.locator("details.op.GET", { has: page.locator(".path", { hasText: path }) });
        await op.locator("summary").click();
        await op.getByRole("button", { name: "Execute" }).click();
        // An absolute URL is refused; a network-path one ("//host/...") is a path of this API.
        if (path.startsWith("http")) await op.getByText(`Not sent: ${other.url} is not this API's origin`).waitFor();
        else await op.locator("h4", { hasText: /^Response \d+/ }).waitFor();
      }
      await page.unroute(`${base}/openapi.json`);
      await screenshot(page, "docs-off-origin-refused");
    });
    step("the dashboard's stored token does not reach the other origin either");
    await withPage(async (page) => {
      await page.goto(`${base}/dashboard`);
      await page.evaluate((t) => sessionStorage.setItem("taskq-token", t), token);
      await page.goto(`${base}/docs?spec=${other.url}/openapi.json`);
      await page.getByText("The spec parameter is not supported").waitFor();
    });
    if (other.seen.length) throw new Error(`the other origin was sent ${JSON.stringify(other.seen)}`);
  } finally {
    other.close();
  }
}

mkdirSync(artifacts, { recursive: true });
const scenarios = { jobs: jobsScenario, lifecycle: lifecycleScenario, token: tokenScenario, docs: docsScenario };
if (!scenarios[scenario]) throw new Error(`unknown scenario ${scenario}; one of ${Object.keys(scenarios)}`);
await scenarios[scenario]();
step("passed");
