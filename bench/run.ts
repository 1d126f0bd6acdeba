/**
 * `npm run bench`: the SDK against raw MQTT.js in one run, on a private mosquitto (loopback, free ports).
 *
 *   npm run bench                      full run (about 4 minutes), 5 repetitions per case and implementation
 *   npm run bench -- --quick           tiny counts, 1 repetition (what the CI smoke test runs)
 *   BENCH_SCALE=0.2 BENCH_REPS=5 ...   scale message counts / set repetitions
 *   --only=tcp-qos0,filters            run the cases whose id contains one of these
 *   --out=path.json                    where the JSON goes (default bench-results/<timestamp>.json)
 *   --check                            exit 1 when a budget fails
 *   --profile                          also write a .cpuprofile of every bench process to bench-results/profiles
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { CASES, type CaseResult, type Row } from './cases.js'
import { readConfig, repoRoot, startBroker } from './harness.js'

const round2 = (n: number): number => Math.round(n * 100) / 100

function format(value: number | undefined, unit: Row['unit']): string {
  if (value === undefined || Number.isNaN(value)) return '—'
  switch (unit) {
    case 'int':
      return Math.round(value).toLocaleString('en-US')
    case 'us':
      return `${Math.round(value).toLocaleString('en-US')} µs`
    case 'us1':
      return `${value.toFixed(2)} µs`
    case 'bytes':
      return `${Math.round(value).toLocaleString('en-US')} B`
    case 'ratio':
      return `${value.toFixed(2)}×`
  }
}

export function table(rows: Row[]): string {
  const header = ['case', 'measure', 'SDK', 'raw MQTT.js', 'SDK/raw', 'budget', 'result']
  const body = rows.map((r) => [
    r.case,
    r.measure,
    format(r.sdk, r.unit),
    format(r.raw, r.unit),
    r.ratio === undefined || Number.isNaN(r.ratio) ? '—' : r.ratio.toFixed(3),
    r.budget ?? '—',
    r.pass === undefined ? 'info' : r.pass ? 'pass' : 'FAIL',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((line) => (line[i] as string).length)))
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n')
}

async function main(): Promise<void> {
  const config = readConfig()
  const selected = CASES.filter((c) => !config.only || config.only.some((o) => c.id.includes(o)))
  const log = (line: string): void => console.error(line)
  const started = new Date()
  log(`iotpubsub bench: ${selected.length} cases, scale ${config.scale}, ${config.reps} repetition(s), ${cpus().length} CPUs, node ${process.version}`)

  const broker = await startBroker()
  const results: CaseResult[] = []
  const failures: string[] = []
  const stop = (): void => {
    void broker.dispose().finally(() => process.exit(130))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    for (const benchCase of selected) {
      log(`${benchCase.id} …`)
      const t0 = Date.now()
      const loadBefore = loadavg()[0] as number
      try {
        const result = await benchCase.run({ broker, config, log })
        // Other processes on the machine skew every number: keep the 1-minute load average with each case.
        results.push({ ...result, loadAverage: [round2(loadBefore), round2(loadavg()[0] as number)] })
      } catch (error) {
        failures.push(`${benchCase.id}: ${(error as Error).stack ?? String(error)}`)
        log(`  ${benchCase.id} failed: ${(error as Error).message}`)
      }
      log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
    }
  } finally {
    await broker.dispose()
  }

  const rows = results.flatMap((r) => r.rows)
  const out = config.out ?? join(repoRoot, 'bench-results', `${started.toISOString().replace(/[:.]/g, '-')}.json`)
  const json = {
    started: started.toISOString(),
    seconds: (Date.now() - started.getTime()) / 1000,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version, platform: process.platform },
    config,
    cases: results,
    rows,
    failures,
    budgetsFailed: rows.filter((r) => r.pass === false).map((r) => `${r.case}: ${r.measure}`),
  }
  await mkdir(dirname(out), { recursive: true })
  await writeFile(out, `${JSON.stringify(json, null, 2)}\n`)

  if (config.quick) console.log('--quick: counts too small for meaningful numbers; this run only proves the bench works.')
  console.log(table(rows))
  const loads = results.flatMap((r) => r.loadAverage ?? [])
  console.log(`\n${json.budgetsFailed.length} budget(s) failed; JSON: ${relative(process.cwd(), out)}`)
  if (loads.length) {
    const high = Math.max(...loads)
    console.log(`1-minute load average during the run: ${Math.min(...loads)}–${high} on ${cpus().length} CPUs${high > cpus().length ? ' (other processes were busy: expect noise)' : ''}`)
  }
  if (failures.length) {
    console.error(`\n${failures.length} case(s) could not run:\n${failures.join('\n')}`)
    process.exitCode = 2
  } else if (config.check && json.budgetsFailed.length) {
    process.exitCode = 1
  }
}

await main()
