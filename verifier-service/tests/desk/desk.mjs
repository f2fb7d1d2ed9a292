// Drives the desk page in headless Debian Chromium for verifier-service/tests/desk_chromium.rs.
// Usage: node desk.mjs BASE_URL OUT_DIR
// Protocol on stdout/stdin, one line each:
//   -> "INVOCATION <openid4vp uri>"   the page shows a request; the Rust test's wallet answers
//   -> "VERDICT <headline> | <document> | <expiry> | <status age>"
//                                     the page shows the wallet's verdict (screenshot desk-online.png)
//   <- "<QR text>"                     the test gives an offline giayto QR text (or an empty line)
//   -> "SCANNED <headline text>"      typed like a USB scanner + Enter, verdict shown (desk-scan.png)
//   -> "RESUMED <headline text>"      the same-device landing page (/?request=ID) shows the result
import { chromium } from "playwright-core";
import { createInterface } from "node:readline";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [base, outDir] = process.argv.slice(2);
const reader = createInterface({ input: process.stdin });
const lines = reader[Symbol.asyncIterator]();

const userDataDir = mkdtempSync(join(tmpdir(), "giayto-desk-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1000, height: 1400 },
});
const WAIT = { timeout: 60_000 };
try {
  const page = context.pages()[0] || (await context.newPage());
  await page.goto(base, WAIT);
  await page.selectOption("#document", "health_insurance_card", WAIT);
  await page.selectOption("#preset", "insurance_check", WAIT);
  await page.click("#create", WAIT);
  await page.waitForSelector("#qr[src*='qr.png']", WAIT);
  // The QR image really loaded (a PNG the server made).
  await page.waitForFunction(() => document.getElementById("qr").naturalWidth > 0, null, WAIT);
  const uri = await page.getAttribute("#invocation", "data-uri", WAIT);
  console.log(`INVOCATION ${uri}`);

  await page.waitForSelector("#verdict-headline", { state: "visible", ...WAIT });
  await page.screenshot({ path: join(outDir, "desk-online.png"), fullPage: true });
  const shown = await page.textContent("#verdict");
  // The whole verdict, for the test's log when an assertion fails.
  console.log(`DETAIL ${shown.replace(/\s+/g, " ")}`);
  if (/\bnull\b|undefined|NaN/.test(shown)) throw new Error(`the verdict shows a missing value: ${shown}`);
  const headline = (await page.textContent("#verdict-headline")).trim();
  const document = (await page.textContent("#verdict-document")).trim();
  const expires = (await page.textContent("#verdict-expires")).trim();
  const statusAge = (await page.textContent("#verdict-status-age")).trim();
  console.log(`VERDICT ${headline} | ${document} | ${expires} | ${statusAge}`);

  // An empty line: no offline QR to scan in this run.
  const { value: qr } = await lines.next();
  if (qr && qr.trim()) {
    await page.click("#scan-input");
    // A USB barcode scanner is a keyboard: it types the text, then Enter.
    await page.keyboard.type(qr.trim(), { delay: 0 });
    await page.keyboard.press("Enter");
    await page.waitForSelector("#verdict[data-source='scan'] #verdict-headline", { state: "visible", ...WAIT });
    await page.screenshot({ path: join(outDir, "desk-scan.png"), fullPage: true });
    console.log(`SCANNED ${(await page.textContent("#verdict-headline")).trim()}`);
  }
  // The page a same-device wallet sends the user back to shows that request's result.
  const requestId = await page.getAttribute("#request", "data-request-id");
  await page.goto(`${base}/?request=${encodeURIComponent(requestId)}`, WAIT);
  await page.waitForSelector("#verdict[data-source='request'] #verdict-headline", { state: "visible", ...WAIT });
  console.log(`RESUMED ${(await page.textContent("#verdict-headline")).trim()}`);
} finally {
  reader.close();
  await context.close();
}
