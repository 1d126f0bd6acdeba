import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { CASES, type CaseResult, type Row } from '../../bench/cases.js'
import { noMosquitto } from '../support/binaries.js'
import { noChromium } from '../support/chromium.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))

// The bench once with tiny counts, so it keeps working. Its numbers mean nothing at this scale and on a
// shared CI machine: nothing here asserts a timing or a budget, only that every case ran and reported.
// The bindings-flood case runs its pages in Chromium.
describe.skipIf(noMosquitto() || noChromium())('npm run bench (smoke, --quick)', () => {
  let dir: string | undefined
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('runs every case against the SDK (on MQTT.js and on the lean link) and raw MQTT.js and writes a well-formed JSON result', async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotpubsub-bench-'))
    const out = join(dir, 'result.json')
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--quick', `--out=${out}`], {
      cwd: root,
      // Three implementations per case (the SDK on each link, raw MQTT.js): about 80 s alone on 2 cores, two to
      // three times that beside the rest of the suite, and a machine two to three times slower has run this suite:
      // room for that.
      timeout: 420_000,
      maxBuffer: 10 * 1024 * 1024,
    })
    expect(stdout).toMatch(/\| case +\| link +\| measure +\| SDK +\| raw MQTT\.js +\| SDK\/raw +\| budget +\| result +\|/)

    const result = JSON.parse(await readFile(out, 'utf8')) as { cases: CaseResult[]; rows: Row[]; failures: string[]; config: { quick: boolean } }
    expect(result.failures).toEqual([])
    expect(result.config.quick).toBe(true)
    expect(result.cases.map((c) => c.id)).toEqual(CASES.map((c) => c.id))
    // Every case reports rows; every case but the informational ones (the broker's own cost, the profile,
    // the bindings under a flood) states a budget on at least one of them.
    const informational = new Set(['broker-routing', 'profile-drain', 'bindings-flood'])
    for (const benchCase of result.cases) {
      expect(benchCase.rows.length, benchCase.id).toBeGreaterThan(0)
      if (!informational.has(benchCase.id)) expect(benchCase.rows.some((r) => r.budget !== undefined), `${benchCase.id} has a budgeted row`).toBe(true)
    }
    for (const row of result.rows) {
      const what = `${row.case}: ${row.measure}`
      expect(Number.isFinite(row.sdk), what).toBe(true)
      if (row.raw !== undefined && row.raw !== null) expect(Number.isFinite(row.raw), what).toBe(true)
      if (row.budget !== undefined) expect(typeof row.pass, what).toBe('boolean')
    }
    // Throughput and drain cases received every message (the broker's queues are raised so nothing is dropped).
    expect(result.rows.filter((r) => r.measure.includes('lost'))).toEqual([])

    const byCase = new Map(result.cases.map((c) => [c.id, c]))
    const rowsOf = (id: string, link: Row['link'] = 'mqttjs'): Row[] => (byCase.get(id)?.rows ?? []).filter((r) => r.link === link)
    // Every case that runs clients reports the SDK on each link: MQTT.js (issues 6 and 14) and lean (issue 15).
    for (const benchCase of result.cases) {
      // The flood page runs in a browser, on the SDK's browser default (lean).
      if (['broker-routing', 'bundle-size', 'heap-10000', 'bindings-flood'].includes(benchCase.id)) continue
      expect(new Set(benchCase.rows.map((r) => r.link)), benchCase.id).toEqual(new Set(['mqttjs', 'lean']))
    }
    // Issue 14's budgets (the SDK on MQTT.js) and issue 15's (the lean link), as stated there (a budget
    // loosened here would pass more easily).
    const drains = result.cases.filter((c) => c.id.startsWith('drain-'))
    expect(drains.map((c) => c.id).sort()).toEqual(
      [0, 1].flatMap((qos) => [1, 100, 10_000].flatMap((filters) => ['bytes', 'json'].map((codec) => `drain-qos${qos}-f${filters}-${codec}`))).sort(),
    )
    // The publisher windowed (500 unsettled) and in awaited batches of 1,000, as apps publish.
    for (const id of [...drains.map((c) => c.id), 'publish-qos0', 'publish-qos1', 'publish-batch-qos0', 'publish-batch-qos1']) {
      const budgets = { mqttjs: 'SDK/raw ≤ 1.05', lean: id.startsWith('drain-') ? 'SDK/raw ≤ 0.7' : 'SDK/raw ≤ 0.8' }
      for (const link of ['mqttjs', 'lean'] as const) {
        const rows = rowsOf(id, link).filter((r) => r.measure.includes('CPU'))
        expect(rows.length, `${id} ${link}`).toBe(1)
        const [row] = rows
        expect(row?.budget, `${id} ${link}`).toBe(budgets[link])
        // The paired ratio and the spread seen over the repetitions are reported.
        expect(row?.ratioRange?.every(Number.isFinite), `${id} ${link}`).toBe(true)
        expect(row?.sdkRange?.every(Number.isFinite), `${id} ${link}`).toBe(true)
        expect(row?.rawRange?.every(Number.isFinite), `${id} ${link}`).toBe(true)
      }
    }
    // Memory under awaited batches: what a link settles before writing would pile up there.
    for (const link of ['mqttjs', 'lean'] as const) expect(rowsOf('publish-batch-qos0', link).find((r) => r.measure.includes('RSS'))?.sdk, link).toBeGreaterThan(0)
    expect(rowsOf('heap-10000')[0]?.budget).toBe('SDK ≤ 300 B')
    // 100,000 filters confirmed in no more than raw MQTT.js's time (exact filters; wildcard ones for information).
    for (const link of ['mqttjs', 'lean'] as const) expect(rowsOf('subscribe-100000', link).map((r) => r.budget), link).toEqual(['SDK ≤ raw', undefined])
    expect(rowsOf('latency-10000').map((r) => [r.measure, r.budget])).toEqual([
      ['p50 µs, defaults', 'SDK ≤ 2,000 µs'],
      ['p99 µs, defaults', undefined],
    ])
    expect(rowsOf('latency-10000', 'lean').map((r) => r.measure)).toEqual(["p50 µs, defaults (and link: 'lean')", "p99 µs, defaults (and link: 'lean')"])
    // The bindings under a flood: iotpubsub/react with throttle 'frame' and false, each beside mqtt-react-hooks,
    // the four figures measured in the page (their values are not asserted: timing on a shared machine).
    const flood = byCase.get('bindings-flood')?.rows ?? []
    const measures = ['frames/s', 'longest frame gap', 'React commits/s', 'messages shown/s (of 5,000)']
    expect(flood.map((r) => r.measure.replace(/, throttle.*/, ''))).toEqual([...measures, ...measures])
    expect(flood.filter((r) => r.measure.includes("throttle: 'frame'")).length).toBe(4)
    expect(flood.filter((r) => r.measure.includes('throttle: false')).length).toBe(4)
    for (const row of flood) expect(row.raw, row.measure).toBeGreaterThanOrEqual(0)
    // The physical reference: the broker's CPU per message routed, from /proc, per QoS.
    const broker = byCase.get('broker-routing')?.rows ?? []
    expect(broker.map((r) => r.reference)).toEqual([true, true])
    for (const row of broker) expect(Number.isFinite(row.sdk), row.measure).toBe(true)
    // The profile: each client's drain profiled and booked by package, 1 and 10,000 filters.
    const profile = byCase.get('profile-drain')
    const profileRows = profile?.rows ?? []
    for (const link of ['mqttjs', 'lean'] as const) {
      expect(profileRows.filter((r) => r.link === link).map((r) => r.case), link).toEqual(expect.arrayContaining(['profile-drain-f1', 'profile-drain-f10000']))
    }
    // The lean link's rows book the SDK's own code by folder (its MQTT in lib/wire, lib/link, lib/transport).
    expect(profileRows.filter((r) => r.link === 'lean').map((r) => r.measure)).toContain('  in iotpubsub lib/ (self, all folders)')
    const shares = profile?.samples as Record<string, { shares: { busySamples: number; shares: Record<string, number> } }> | undefined
    for (const key of ['f1-sdk', 'f1-raw', 'f10000-sdk', 'f10000-raw']) {
      expect(shares?.[key]?.shares.busySamples, key).toBeGreaterThan(0)
      expect(Object.keys(shares?.[key]?.shares.shares ?? {}), key).toContain('mqtt-packet')
    }
    // The lean link parses MQTT itself: no MQTT.js code runs in its drain.
    for (const key of ['f1-lean', 'f10000-lean']) {
      expect(shares?.[key]?.shares.busySamples, key).toBeGreaterThan(0)
      expect(Object.keys(shares?.[key]?.shares.shares ?? {}), key).not.toContain('mqtt-packet')
    }
  }, 450_000)
})
