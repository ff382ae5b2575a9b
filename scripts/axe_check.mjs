// Runs axe-core on HTML pages in headless Chromium and prints one JSON line per page:
//   {"page": "...", "violations": [{"id", "impact", "help", "nodes": [...]}]}
// Usage: node scripts/axe_check.mjs FILE.html [FILE.html ...]
// Chromium comes from Debian (PUPPETEER_EXECUTABLE_PATH, default /usr/bin/chromium);
// the pages are opened from disk and the network stays closed.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const browser = await puppeteer.launch({
  executablePath: process.env.PUPPETEER_EXECUTABLE_PATH || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"],
});
let failed = 0;
try {
  for (const file of process.argv.slice(2)) {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(pathToFileURL(file).href, { waitUntil: "load" });
    await page.evaluate(axeSource);
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const r = await axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
      }));
    });
    failed += result.length;
    console.log(JSON.stringify({ page: file, violations: result }));
    await page.close();
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
