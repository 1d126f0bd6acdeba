/**
 * `npm run bench`: the SDK against raw MQTT.js in one run, on a private mosquitto (loopback, free ports). The
 * SDK runs on each of its links: MQTT.js (`link: 'mqttjs'`, rows marked `mqttjs`, the budgets of issues 6 and
 * 14) and its own MQTT (`link: 'lean'`, rows marked `lean`, the budgets of issue 15).
 *
 *   npm run bench                      full run (about 12 minutes with the lean link), 5 repetitions per case and implementation
 *   npm run bench -- --quick           tiny counts, 1 repetition, bench processes run from a bundle (what the CI
 *                                      smoke test runs)
 *   BENCH_SCALE=0.2 BENCH_REPS=5 ...   scale message counts / set repetitions
 *   --only=tcp-qos0,filters            run the cases whose id contains one of these
 *   --impls=raw,lean                   leave out the SDK on MQTT.js ('sdk') or the lean link ('lean'); raw always runs
 *   --out=path.json                    where the JSON goes (default bench-results/<timestamp>.json)
 *   --check                            exit 1 when a budget fails
 *   --profile                          also write a .cpuprofile of every bench process to bench-results/profiles
 *
 * The bindings-flood case runs React pages in Debian's chromium (CHROMIUM_PATH to use another); it compares
 * iotpubsub/react with mqtt-react-hooks, whatever --impls says.
 */
import { execFileSync } from 'node:child_process'
import { mkdir, rename, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { build } from 'esbuild'
import { CASES, type CaseResult, type Row } from './cases.js'
import { buildSdk, forkBundle, median, readConfig, repoRoot, startBroker, workerPath } from './harness.js'

const round2 = (n: number): number => Math.round(n * 100) / 100

/**
 * Which code was measured: the commit and the files of lib/ that differed from it when the run started
 * (lib/ changes while others optimise it; figures belong to the code they were taken on).
 */
function codeVersion(): { commit: string | undefined; libChanges: string[] } {
  const git = (...args: string[]): string | undefined => {
    try {
      return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    } catch {
      return undefined
    }
  }
  return { commit: git('rev-parse', 'HEAD'), libChanges: (git('status', '--short', '--', 'lib') ?? '').split('\n').filter(Boolean) }
}

/**
 * --quick's bench processes: bench/worker.ts bundled by esbuild (its packages left to node_modules; the SDK is
 * still the tsc build) and run by plain node. A trial of the smoke run lasts about a second, most of it
 * start-up, and tsx about doubles a process's start-up CPU (its own loader, and a hook on every import). The
 * full run keeps bench/worker.ts under tsx.
 */
async function bundleWorker(): Promise<void> {
  const result = await build({ entryPoints: [workerPath], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', write: false, logLevel: 'silent' })
  const out = join(repoRoot, 'bench-results', 'worker', 'worker.js')
  await mkdir(dirname(out), { recursive: true })
  // Renamed into place whole: another bench run may be forking the same file.
  await writeFile(`${out}.${process.pid}`, result.outputFiles[0]?.text ?? '')
  await rename(`${out}.${process.pid}`, out)
  forkBundle(out)
}

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
    case 'ms':
      return `${Math.round(value).toLocaleString('en-US')} ms`
    case 'ratio':
      return `${value.toFixed(2)}×`
  }
}

/** The bare number of a range bound, in the row's unit but without it (the unit is on the median). */
function bound(value: number, unit: Row['unit']): string {
  return format(value, unit).replace(/ (µs|B|ms)$/, '').replace(/×$/, '')
}

/** A median with the min–max seen over the repetitions, when there was more than one distinct value. */
function withRange(value: number | undefined, unit: Row['unit'], spread: [number, number] | undefined): string {
  const text = format(value, unit)
  if (!spread || value === undefined || bound(spread[0], unit) === bound(spread[1], unit)) return text
  return `${text} (${bound(spread[0], unit)}–${bound(spread[1], unit)})`
}

function ratioText(r: Row): string {
  if (r.ratio === undefined || Number.isNaN(r.ratio)) return '—'
  const spread = r.ratioRange
  return spread && spread[0] !== spread[1] ? `${r.ratio.toFixed(3)} (${spread[0].toFixed(2)}–${spread[1].toFixed(2)})` : r.ratio.toFixed(3)
}

export function table(rows: Row[]): string {
  // 'link': which of the SDK's links the SDK column is (mqttjs: on MQTT.js; lean: its own MQTT); '—' for a row
  // that is no link's (the broker's own cost, the bundle).
  const header = ['case', 'link', 'measure', 'SDK', 'raw MQTT.js', 'SDK/raw', 'budget', 'result']
  const body = rows.map((r) => [
    r.case,
    r.link ?? '—',
    r.measure,
    // A reference row (the broker's own cost) is neither client's: marked, in the first figure column.
    `${r.reference ? 'broker: ' : ''}${withRange(r.sdk, r.unit, r.sdkRange)}`,
    withRange(r.raw, r.unit, r.rawRange),
    ratioText(r),
    r.budget ?? '—',
    r.pass === undefined ? (r.reference ? 'reference' : 'info') : r.pass ? 'pass' : 'FAIL',
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
  const code = codeVersion()
  log(`iotpubsub bench: ${selected.length} cases, ${config.impls.join(' / ')}, scale ${config.scale}, ${config.reps} repetition(s), ${cpus().length} CPUs, node ${process.version}`)

  log('building the SDK (tsc, as users run it) into bench-results/sdk …')
  buildSdk()
  if (config.quick) await bundleWorker()
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
    code,
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
  // The noise seen: how far the paired SDK/raw ratios of each CPU case spread around their median.
  for (const link of ['mqttjs', 'lean'] as const) {
    const spreads = rows
      .filter((r) => r.link === link && r.ratioRange && r.ratio)
      .map((r) => Math.max((r.ratioRange as [number, number])[1] / (r.ratio as number) - 1, 1 - (r.ratioRange as [number, number])[0] / (r.ratio as number)))
    if (spreads.length && config.reps > 1) {
      console.log(`paired SDK/raw ratios, ${link} link: spread around their medians ${(100 * Math.min(...spreads)).toFixed(0)}–${(100 * Math.max(...spreads)).toFixed(0)} % (median ${(100 * median(spreads)).toFixed(0)} %) over ${config.reps} repetitions`)
    }
  }
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
