#!/usr/bin/env node
// CI's dependency audit: fails on any high or critical advisory. When the registry's audit service
// cannot be reached (some mirrors answer 405), it says so plainly instead of passing silently.
import { spawnSync } from 'node:child_process';

const run = spawnSync('npm', ['audit', '--json'], { encoding: 'utf8' });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  console.log(`# npm audit UNAVAILABLE: no report (${(run.stderr || '').trim().split('\n').pop()})`);
  process.exit(0);
}
if (report.error) {
  console.log(
    `# npm audit UNAVAILABLE from this network: ${report.error.summary || report.error.detail || report.error.code || 'the audit endpoint refused the request'}`,
  );
  process.exit(0);
}
const v = report.metadata?.vulnerabilities ?? {};
console.log(`# npm audit: ${JSON.stringify(v)}`);
if ((v.high ?? 0) + (v.critical ?? 0) > 0) {
  for (const [name, info] of Object.entries(report.vulnerabilities ?? {})) {
    if (info.severity === 'high' || info.severity === 'critical') console.log(`#   ${info.severity}: ${name} (${info.range})`);
  }
  process.exit(1);
}
