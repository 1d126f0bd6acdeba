import { afterAll, afterEach, beforeAll } from 'vitest'
import { ClientPool } from './clients.js'
import { Mosquitto, type MosquittoOptions } from './mosquitto.js'
import { TcpProxy } from './tcp-proxy.js'

/** What a fault-injection test works with; everything it starts is stopped after each test. */
export interface TestBed {
  readonly pool: ClientPool
  /** A private Mosquitto from the kit's profile, persistence off unless asked for. */
  broker(options?: MosquittoOptions): Promise<Mosquitto>
  /** A TCP proxy in front of a broker's MQTT listener, for cutting connections. */
  proxy(broker: Mosquitto): Promise<TcpProxy>
}

/** Registers the cleanup of one test file's clients, brokers and proxies (call at describe level). */
export function testBed(name: string): TestBed {
  const pool = new ClientPool(name)
  const brokers: Mosquitto[] = []
  const proxies: TcpProxy[] = []
  afterEach(async () => {
    await pool.endAll()
    await Promise.all(proxies.splice(0).map((p) => p.close()))
    for (const broker of brokers.splice(0)) {
      broker.signal('SIGCONT') // a test that froze it may have failed before thawing it
      await broker.dispose()
    }
  })
  return {
    pool,
    async broker(options = {}) {
      const broker = await Mosquitto.start({ persistence: false, ...options })
      brokers.push(broker)
      return broker
    },
    async proxy(broker) {
      const proxy = await TcpProxy.start(broker.ports[1883] as number)
      proxies.push(proxy)
      return proxy
    },
  }
}

/** One broker for a whole test file (started once, with subscriptions logged), and its clients. */
export interface SharedBed {
  readonly pool: ClientPool
  /** The file's broker; available from the first test on. */
  readonly broker: Mosquitto
}

/** Registers a file-wide broker and client pool, stopped after the last test (call at describe level). */
export function sharedBed(name: string, options: MosquittoOptions = {}): SharedBed {
  const pool = new ClientPool(name)
  let broker: Mosquitto | undefined
  beforeAll(async () => {
    broker = await Mosquitto.start({ persistence: false, ...options, extra: ['log_type all', ...(options.extra ?? [])] })
  })
  afterAll(async () => {
    await pool.endAll()
    await broker?.dispose()
  })
  return {
    pool,
    get broker() {
      if (!broker) throw new Error('the shared broker is not started yet (use it inside a test or hook)')
      return broker
    },
  }
}
