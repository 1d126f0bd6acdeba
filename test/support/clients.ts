import { firstValueFrom, filter, timeout } from 'rxjs'
import { connect, type ClientOptions, type MQTTClient, type Status } from '../../lib/node.js'

/** Clients made by one test file; `endAll()` in afterEach/afterAll ends every one of them. */
export class ClientPool {
  private readonly clients = new Set<MQTTClient>()
  private counter = 0

  constructor(private readonly prefix: string) {}

  /** Connects a client with a unique client id and waits for the CONNACK. */
  async connected(url: string | readonly string[], options: ClientOptions = {}): Promise<MQTTClient> {
    const client = this.connect(url, options)
    await waitForStatus(client, 'connected')
    return client
  }

  connect(url: string | readonly string[], options: ClientOptions = {}): MQTTClient {
    this.counter += 1
    const client = connect(url, { clientId: `${this.prefix}-${process.pid}-${this.counter}`, ...options })
    this.clients.add(client)
    return client
  }

  async endAll(): Promise<void> {
    const clients = [...this.clients]
    this.clients.clear()
    await Promise.all(clients.map((c) => c.end({ force: true })))
  }
}

/** The client's first status of `type` (the current one counts), or an error after `ms`. */
export function waitForStatus<T extends Status['type']>(client: MQTTClient, type: T, ms = 10_000): Promise<Extract<Status, { type: T }>> {
  return firstValueFrom(
    client.status$.pipe(
      filter((s): s is Extract<Status, { type: T }> => s.type === type),
      timeout({ first: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for status ${type}`) } }),
    ),
  )
}

/** The client's next `connected` after a `reconnecting`: a reconnect that worked (each step within `ms`). */
export async function reconnected(client: MQTTClient, ms = 20_000): Promise<Extract<Status, { type: 'connected' }>> {
  await waitForStatus(client, 'reconnecting', ms)
  return firstValueFrom(
    client.status$.pipe(
      filter((s): s is Extract<Status, { type: 'connected' }> => s.type === 'connected'),
      timeout({ first: ms, with: () => { throw new Error(`timed out after ${ms} ms waiting for the client to connect again`) } }),
    ),
  )
}

/** How many times the broker log says it received `packet` (SUBSCRIBE, UNSUBSCRIBE, ...) from `clientId`. */
export function countInLog(log: string, packet: string, clientId: string): number {
  return log.split('\n').filter((line) => line.endsWith(`Received ${packet} from ${clientId}`)).length
}

/** How a promise settled: 'resolved', or the name of its error. */
export function outcome(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (e: unknown) => (e instanceof Error ? e.name : String(e)),
  )
}

/** Resolves with what `status$` emitted once it completes (after 'closed'); rejects after `ms`. */
export function statusCompleted(client: MQTTClient, ms = 10_000): Promise<Status[]> {
  const seen: Status[] = []
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`status$ did not complete within ${ms} ms: ${seen.map((s) => s.type).join(',')}`)), ms)
    client.status$.subscribe({
      next: (s) => seen.push(s),
      complete: () => {
        clearTimeout(timer)
        resolve(seen)
      },
    })
  })
}
