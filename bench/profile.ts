/**
 * Summarises V8 CPU profiles written by `npm run bench -- --profile` (bench-results/profiles/*.cpuprofile):
 * self time by package/file and the top functions, so the SDK's share of a subscriber's time is visible.
 * `packageShares` is what the bench's profile-drain case reports (by package: iotpubsub's lib/wire, lib/link,
 * lib/transport and the rest of lib/, rxjs, mqtt, ...).
 *
 *   npm run bench -- --only=tcp-qos0 --reps=1 --profile
 *   npx tsx bench/profile.ts [bench-results/profiles] [--match=sub-sdk] [--top=25]
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { repoRoot, sdkBuildDir } from './harness.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  children?: number[]
}

export interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** The SDK's own files: its sources, and the build of them the bench measures (bench-results/sdk/). */
function sdkFile(path: string): string | undefined {
  if (path.startsWith(`${sdkBuildDir}/`)) return `lib/${relative(sdkBuildDir, path)}`
  if (path.startsWith(join(repoRoot, 'lib/'))) return relative(repoRoot, path)
  return undefined
}

/** Where a function lives: the SDK (lib/…), a package, node internals, or V8's own buckets. */
export function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  const path = url.replace(/^file:\/\//, '')
  const sdk = sdkFile(path)
  if (sdk) return `sdk ${sdk}`
  if (path.startsWith(join(repoRoot, 'bench/'))) return `bench ${relative(repoRoot, path)}`
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  if (pkg) return `pkg ${pkg[1]}`
  if (path.startsWith('node:')) return 'node internals'
  return path
}

/**
 * The SDK's own code is booked by folder: its MQTT (lib/wire: packets, lib/link: the links, lib/transport:
 * sockets), and the rest of lib/ (observe, routing, message objects, codecs, status, ...).
 */
export const SDK_AREAS = ['iotpubsub lib/wire', 'iotpubsub lib/link', 'iotpubsub lib/transport', 'iotpubsub lib/ other'] as const

const isSdkArea = (where: string): boolean => where.startsWith('iotpubsub lib/')

function sdkArea(file: string): string {
  const folder = /^lib\/(wire|link|transport)\//.exec(file)?.[1]
  return folder ? `iotpubsub lib/${folder}` : 'iotpubsub lib/ other'
}

/** The package a function's time is booked to in the profile-drain case (the SDK's own code by folder, see SDK_AREAS). */
export function packageOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(garbage collector)') return 'GC'
    // '(program)' is V8 and native code outside any JavaScript function; unnamed-url frames are builtins.
    return functionName === '(program)' ? 'V8 (program)' : 'V8 builtins / native'
  }
  const path = url.replace(/^file:\/\//, '')
  const sdk = sdkFile(path)
  if (sdk) return sdkArea(sdk)
  if (path.startsWith(join(repoRoot, 'bench/'))) return 'bench harness'
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1]
  if (pkg) return ['rxjs', 'mqtt', 'mqtt-packet', 'bl', 'debug', 'readable-stream'].includes(pkg) ? pkg : 'other packages'
  if (path.startsWith('node:')) return 'node internals'
  return 'other'
}

export interface PackageShares {
  /** Samples that were not idle. */
  busySamples: number
  /** Share (0..1) of the busy samples whose innermost frame is in each package (the SDK's by folder, SDK_AREAS). */
  shares: Record<string, number>
  /** Share of the busy samples whose innermost frame is the SDK's own code (the sum of SDK_AREAS). */
  sdkSelf: number
  /**
   * Share of the busy samples with an SDK (lib/) frame anywhere on the stack: the SDK's code with all it
   * calls (RxJS, its message objects, ...), not the MQTT.js parsing that runs before the SDK is called.
   */
  underSdk: number
  /** The SDK's functions by self samples (share of busy), the top fifteen. */
  topSdkFunctions: Array<{ name: string; share: number }>
}

/**
 * Self time by package, counted in samples, not in timeDeltas: a drain profile spans the SIGSTOP, and the
 * first sample after SIGCONT carries the whole stopped time in its delta. Samples are taken at a fixed
 * interval while the process runs, so their count is proportional to time spent.
 */
export function packageShares(profile: CpuProfile): PackageShares {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  // Whether a node or any caller of it is SDK code, memoised per node (stacks share their callers).
  const sdkOnStack = new Map<number, boolean>()
  const inSdk = (id: number): boolean => {
    const known = sdkOnStack.get(id)
    if (known !== undefined) return known
    const frame = byId.get(id)?.callFrame
    const up = parent.get(id)
    const result = (frame !== undefined && isSdkArea(packageOf(frame.url, frame.functionName))) || (up !== undefined && inSdk(up))
    sdkOnStack.set(id, result)
    return result
  }
  const counts = new Map<string, number>()
  const sdkFunctions = new Map<string, number>()
  let busy = 0
  let underSdk = 0
  let sdkSelf = 0
  for (const id of profile.samples) {
    const frame = byId.get(id)?.callFrame
    if (!frame || frame.functionName === '(idle)' || frame.functionName === '(root)') continue
    busy++
    if (inSdk(id)) underSdk++
    const where = packageOf(frame.url, frame.functionName)
    counts.set(where, (counts.get(where) ?? 0) + 1)
    if (isSdkArea(where)) {
      sdkSelf++
      // No line number: under tsx the profile's positions are those of the transpiled module, not the .ts file.
      const key = `${frame.functionName || '(anonymous)'} ${relative(repoRoot, frame.url.replace(/^file:\/\//, ''))}`
      sdkFunctions.set(key, (sdkFunctions.get(key) ?? 0) + 1)
    }
  }
  const share = (n: number): number => (busy ? n / busy : 0)
  return {
    busySamples: busy,
    underSdk: share(underSdk),
    sdkSelf: share(sdkSelf),
    shares: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => [k, share(n)])),
    topSdkFunctions: [...sdkFunctions]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([name, n]) => ({ name, share: share(n) })),
  }
}

export async function readProfile(file: string): Promise<CpuProfile> {
  return JSON.parse(await readFile(file, 'utf8')) as CpuProfile
}

export async function summarise(file: string, top = 25): Promise<string> {
  const profile = await readProfile(file)
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0)
  const busy = total - idle
  const areas = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, micros] of self) {
    const frame = byId.get(id)?.callFrame
    if (!frame || frame.functionName === '(idle)') continue
    const where = area(frame.url, frame.functionName)
    areas.set(where, (areas.get(where) ?? 0) + micros)
    const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`
    functions.set(key, (functions.get(key) ?? 0) + micros)
  }
  // Inclusive time of the SDK's own functions (lib/…): what each costs with everything it calls.
  const children = new Map(profile.nodes.map((n) => [n.id, n.children ?? []]))
  const inclusive = new Map<number, number>()
  const total_ = (id: number): number => {
    const known = inclusive.get(id)
    if (known !== undefined) return known
    let sum = self.get(id) ?? 0
    for (const child of children.get(id) ?? []) sum += total_(child)
    inclusive.set(id, sum)
    return sum
  }
  const sdkInclusive = new Map<string, number>()
  const visit = (id: number, inSdk: Set<string>): void => {
    const frame = byId.get(id)?.callFrame
    let entered = inSdk
    if (frame && area(frame.url, frame.functionName).startsWith('sdk ')) {
      const key = `${frame.functionName || '(anonymous)'} ${area(frame.url, frame.functionName).slice(4)}`
      // Count a function once per stack (outermost frame), so recursion is not double counted.
      if (!inSdk.has(key)) {
        sdkInclusive.set(key, (sdkInclusive.get(key) ?? 0) + total_(id))
        entered = new Set(inSdk).add(key)
      }
    }
    for (const child of children.get(id) ?? []) visit(child, entered)
  }
  const root = profile.nodes[0]
  if (root) visit(root.id, new Set())
  const pct = (micros: number): string => `${((100 * micros) / busy).toFixed(1).padStart(5)}%`
  const lines = [`${relative(process.cwd(), file)}: ${(busy / 1000).toFixed(0)} ms busy of ${(total / 1000).toFixed(0)} ms sampled`]
  lines.push('  self time by area:')
  for (const [where, micros] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 14)) lines.push(`    ${pct(micros)}  ${where}`)
  if (sdkInclusive.size) {
    lines.push('  SDK functions, inclusive time (with what they call):')
    for (const [key, micros] of [...sdkInclusive].sort((a, b) => b[1] - a[1]).slice(0, 12)) lines.push(`    ${pct(micros)}  ${key}`)
  }
  lines.push(`  top ${top} functions by self time:`)
  for (const [key, micros] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${pct(micros)}  ${key}`)
  return lines.join('\n')
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const dir = args.find((a) => !a.startsWith('--')) ?? join(repoRoot, 'bench-results', 'profiles')
  const match = args.find((a) => a.startsWith('--match='))?.slice(8)
  const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25)
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile') && (!match || f.includes(match))).sort()
  if (files.length === 0) throw new Error(`no .cpuprofile files in ${dir}: run npm run bench -- --profile first`)
  for (const file of files) console.log(`${await summarise(join(dir, file), top)}\n`)
}

// Run as a script only: the bench imports packageShares from this module.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main()
