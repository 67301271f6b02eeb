 
import { readdir } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { BenchFigure, BenchSuite } from './harness.js';

const directory = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);

function format(value: number): string {
  return Number.isFinite(value) ? (Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3)) : String(value);
}

const files = (await readdir(directory)).filter((file) => file.endsWith('.bench.ts')).sort();
const rows: string[] = [];
let failedGoals = 0;
for (const file of files) {
  const suite = ((await import(pathToFileURL(`${directory}${file}`).href)) as { suite: BenchSuite }).suite;
  if (only.length > 0 && !only.some((name) => suite.name.includes(name) || file.includes(name))) continue;
  console.log(`\n## ${suite.name}`);
  try {
    await suite.run((figure: BenchFigure) => {
      const ratio = figure.value / figure.baseline;
      const verdict = figure.met === undefined ? '' : figure.met ? '  ✓' : '  ✗';
      if (figure.met === false) failedGoals += 1;
      const line = `${figure.name}: ${format(figure.value)} ${figure.unit} | ${figure.baselineName}: ${format(figure.baseline)} ${figure.unit} | ratio ${format(ratio)}${figure.goal ? ` | goal ${figure.goal}` : ''}${verdict}`;
      rows.push(`[${suite.name}] ${line}`);
      console.log(line);
    });
  } catch (error) {
    console.log(`suite failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    failedGoals += 1;
  }
}
console.log(`\n# Summary (${String(rows.length)} figures, ${String(failedGoals)} goals missed or suites failed)`);
for (const row of rows) console.log(row);
