// request()/serve() under broker faults, against a real Mosquitto: the process never crashes, every
// request keeps its own deadline and rejects with the SDK's typed errors only.
import { type ChildProcess, spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { IotPubSubError, RequestTimeoutError } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { uniquePrefix } from '../support/wait.js'

const SDK = fileURLToPath(new URL('../../lib/node.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/**
 * A user's script, run as its own Node process: an unhandled rejection or an uncaught exception there
 * exits with code 1 and a stack on stderr, which is what a crash looks like to a user. It prints `ready`
 * when the parent may inject the fault, then what happened; it leaves the process to exit by itself,
 * so that an error RxJS rethrows on a timer after the fact still shows.
 */
const SCRIPT = `
const [sdk, scenario, url, prefix] = process.argv.slice(1)
const { connect, IotPubSubError } = await import(sdk)
const say = (line) => process.stdout.write(line + '\\n')
const outcome = (promise) => promise.then(() => 'resolved', (e) => 'rejected ' + e.name + (e instanceof IotPubSubError ? '' : ' (not an SDK error)'))
const when = (source$, test) => new Promise((resolve) => { const s = source$.subscribe((v) => { if (test(v)) { resolve(v); queueMicrotask(() => s.unsubscribe()) } }) })
const granted = (client, test) => when(client.subscriptions$, (subs) => subs.some((s) => test(s.filter) && s.grantedQos !== undefined))
if (scenario === 'request-unreachable') {
  const client = connect(url, { reconnect: { initialDelay: 50, maxDelay: 50 } })
  say('outcome ' + (await outcome(client.request(prefix + '/x', 'ping', { timeout: 300 }))))
  await client.end({ force: true })
  // end() during a connection attempt leaves MQTT.js's reconnect interval behind (a client matter, not
  // the requester's); a crash would have happened already, when the request's deadline passed.
  setImmediate(() => process.exit())
} else if (scenario === 'serve-killed') {
  const client = connect(url, { reconnect: false })
  const serving = client.serve(prefix + '/rpc', () => 'pong')
  serving.add(() => say('serving closed'))
  await granted(client, (f) => f === prefix + '/rpc')
  say('ready')
  const closed = await when(client.status$, (s) => s.type === 'closed')
  say('closed ' + closed.error?.name)
} else if (scenario === 'request-killed') {
  const client = connect(url, { reconnect: false })
  const pending = outcome(client.request(prefix + '/nobody', 'x', { timeout: 30000 }))
  await granted(client, (f) => f.startsWith('iotpubsub/reply/'))
  say('ready')
  say('outcome ' + (await pending))
}
`

interface Run {
  /** Resolves when the script prints `line`; rejects after `ms`. */
  line(line: string, ms?: number): Promise<void>
  /** The exit code, everything printed, once the process has exited by itself (killed after `ms`). */
  exit(ms?: number): Promise<{ code: number | null; stdout: string[]; stderr: string }>
}

describe.skipIf(noMosquitto())('services under broker faults', () => {
  const bed = testBed('svc-faults')
  const pool = bed.pool
  const children = new Set<ChildProcess>()
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)

  beforeEach(() => {
    unhandled.length = 0
    process.on('unhandledRejection', onUnhandled)
  })

  afterEach(() => {
    // Nothing here may throw: a failing hook would skip the bed's, and leave its brokers running.
    for (const child of children) child.kill('SIGKILL') // only a failed test leaves one running
    children.clear()
    process.off('unhandledRejection', onUnhandled)
  })

  /** Asserted in each in-process test: Node reports an unhandled rejection after the microtasks drain. */
  async function expectNoUnhandledRejection(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
  }

  function run(scenario: string, url: string, prefix: string): Run {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT, SDK, scenario, url, prefix], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(child)
    const stdout: string[] = []
    let stderr = ''
    const waiters = new Map<string, () => void>()
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
      stdout.push(text)
      waiters.get(text)?.()
    })
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
    const within = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}; stdout ${JSON.stringify(stdout)}, stderr ${stderr}`)), ms)
        promise.then(resolve, reject).finally(() => clearTimeout(timer))
      })
    return {
      line: (text, ms = 15_000) =>
        within(
          new Promise<void>((resolve) => (stdout.includes(text) ? resolve() : waiters.set(text, resolve))),
          ms,
          `the script to print ${JSON.stringify(text)}`,
        ),
      exit: async (ms = 15_000) => {
        const code = await within(exited, ms, 'the script to exit').finally(() => child.kill('SIGKILL'))
        children.delete(child)
        return { code, stdout, stderr }
      },
    }
  }

  it('request() before the connection is up, broker frozen: RequestTimeoutError, and the process exits 0', async () => {
    const broker = await bed.broker()
    broker.signal('SIGSTOP') // the TCP connection opens; no CONNACK comes
    const result = await run('request-unreachable', broker.tcpUrl, uniquePrefix('frozen')).exit()
    expect(result).toEqual({ code: 0, stdout: ['outcome rejected RequestTimeoutError'], stderr: '' })
  })

  it('request() while the broker is down (connections refused, reconnecting): RequestTimeoutError, and the process exits 0', async () => {
    const broker = await bed.broker()
    await broker.stop() // its port now refuses connections
    const result = await run('request-unreachable', broker.tcpUrl, uniquePrefix('down')).exit()
    expect(result).toEqual({ code: 0, stdout: ['outcome rejected RequestTimeoutError'], stderr: '' })
  })

  it('serve() with reconnect: false, broker killed: the serving Subscription closes, and the process exits 0', async () => {
    const broker = await bed.broker()
    const script = run('serve-killed', broker.tcpUrl, uniquePrefix('serve-kill'))
    await script.line('ready')
    await broker.stop('SIGKILL')
    const result = await script.exit()
    expect(result).toEqual({ code: 0, stdout: ['ready', 'serving closed', 'closed ConnectionLostError'], stderr: '' })
  })

  it('request() in flight with reconnect: false, broker killed: ConnectionLostError, and the process exits 0', async () => {
    const broker = await bed.broker()
    const script = run('request-killed', broker.tcpUrl, uniquePrefix('request-kill'))
    await script.line('ready')
    await broker.stop('SIGKILL')
    const result = await script.exit()
    expect(result).toEqual({ code: 0, stdout: ['ready', 'outcome rejected ConnectionLostError'], stderr: '' })
  })

  /** A responder on a private broker, and a connected requester; `seen` lists the requests it got. */
  async function responderAndRequester(name: string) {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const topic = `${uniquePrefix(name)}/rpc`
    const server = await pool.connected(broker.tcpUrl)
    const seen: string[] = []
    server.serve<string>(
      topic,
      (request) => {
        seen.push(request.payload)
        return `re:${request.payload}`
      },
      { codec: 'text' },
    )
    await broker.waitForSubscription(server.clientId, topic, 1)
    const client = await pool.connected(broker.tcpUrl)
    return { broker, topic, seen, client }
  }

  it('concurrent requests keep their own deadlines: 55 ms times out while the broker is frozen, 5,000 ms is answered after it resumes', async () => {
    const { broker, topic, client } = await responderAndRequester('deadlines')
    broker.signal('SIGSTOP') // the reply subscription's SUBACK cannot come
    const short = client.request(topic, 'short', { timeout: 55 }).catch((e: unknown) => e)
    const long = client.request(topic, 'long', { timeout: 5_000, codec: 'text' }).catch((e: unknown) => e)
    const shortError = await short
    expect(shortError).toBeInstanceOf(RequestTimeoutError)
    broker.signal('SIGCONT')
    const reply = await long
    expect(reply).not.toBeInstanceOf(Error)
    expect(reply).toMatchObject({ payload: 're:long' })
    await expectNoUnhandledRejection()
  })

  it('a request whose deadline passed while the broker was frozen is never published', async () => {
    const { broker, topic, seen, client } = await responderAndRequester('late')
    broker.signal('SIGSTOP')
    const long = client.request(topic, 'long', { timeout: 5_000, codec: 'text' })
    const late = client.request(topic, 'late', { timeout: 100 }).catch((e: unknown) => e)
    const error = await late
    expect(error).toBeInstanceOf(RequestTimeoutError)
    broker.signal('SIGCONT')
    expect((await long).payload).toBe('re:long')
    // Published after `late` would have been on the same connection: once it is answered, `late` would have arrived.
    expect((await client.request(topic, 'after', { timeout: 5_000, codec: 'text' })).payload).toBe('re:after')
    expect(seen).toEqual(['long', 'after'])
    await expectNoUnhandledRejection()
  })

  it('every rejection is an IotPubSubError: 20 requests with 20 timeouts while the broker is frozen', async () => {
    const { broker, topic, client } = await responderAndRequester('typed')
    broker.signal('SIGSTOP')
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => client.request(topic, 'x', { timeout: 20 + 10 * i }).catch((e: unknown) => e)))
    broker.signal('SIGCONT')
    for (const outcome of outcomes) expect(outcome).toBeInstanceOf(IotPubSubError)
    await expectNoUnhandledRejection()
  })
})
