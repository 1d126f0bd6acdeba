// A file store garbled between runs. The guide (docs/guide/outbox.md, "Collapse" section end)
// says a store with unreadable parts "moves them aside and reports StoreCorruptError on errors$", and
// StoredSession.problems says the rest "was kept"; a full disk is "never a silent drop".
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fileStore, StoreCorruptError } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

describe.skipIf(noMosquitto())('outbox: corrupt store between runs', () => {
  const bed = testBed('outbox-corrupt')
  const pool = bed.pool
  const dirs: string[] = []
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'outbox-corrupt-'))
    dirs.push(dir)
    return dir
  }

  /** Writes m0..m2 to a fresh store; returns the log path and the byte offset of each record. */
  const threeMessages = async (dir: string, clientId: string, topic: string) => {
    const writer = fileStore(dir)
    await writer.open(clientId)
    const log = join(dir, `outbox-${clientId}.log`)
    const offsets: number[] = []
    for (const i of [0, 1, 2]) {
      offsets.push((await readFile(log)).length)
      await writer.write({ type: 'add', message: { id: `m${i}`, topic, payload: new TextEncoder().encode(`m${i}`), qos: 1, retain: false } })
    }
    await writer.close()
    return { log, offsets }
  }

  const run = async (damage: (bytes: Buffer, offsets: number[]) => Buffer | void, name: string) => {
    const broker = await bed.broker({ extra: ['log_type all'] })
    const p = uniquePrefix(name)
    const sub = await pool.connected(broker.tcpUrl)
    const received: string[] = []
    sub.observe(`${p}/#`, { qos: 1, codec: 'text' }).subscribe((m) => received.push(m.payload))
    await broker.waitForSubscription(sub.clientId, `${p}/#`, 1)
    const dir = await tempDir()
    const clientId = `${p.replaceAll('/', '_')}-pub`
    const { log, offsets } = await threeMessages(dir, clientId, `${p}/m`)
    const bytes = await readFile(log)
    await writeFile(log, damage(bytes, offsets) ?? bytes)
    const errors: unknown[] = []
    const events: string[] = []
    const client = pool.connect(broker.tcpUrl, { clientId, store: fileStore(dir) })
    client.errors$.subscribe((e) => errors.push(e))
    client.outbox$.subscribe((e) => events.push(`${e.id}:${e.state}`))
    await client.connected()
    // A QoS 1 publish of this run, sent after whatever was restored: its arrival means the restored ones went.
    await client.publish(`${p}/m`, 'marker', { qos: 1, id: 'marker' })
    await waitFor(() => received.includes('marker'), 'the marker')
    return { errors, received, events }
  }

  it('a garbled length field in the FIRST record (not a torn tail): StoreCorruptError, not a silent loss of all three', async () => {
    // Length 0x00010000 (64 KiB): under MAX_RECORD, past the end of the file.
    const { errors, received } = await run((bytes, offsets) => void bytes.writeUInt32BE(0x10000, offsets[0] as number), 'garbled-len')
    // Either the records are kept or the loss is reported; never nothing at all.
    const lost = ['m0', 'm1', 'm2'].filter((m) => !received.includes(m))
    if (lost.length > 0) expect(errors.some((e) => e instanceof StoreCorruptError)).toBe(true)
  })

  it('a store file truncated inside its last record: the whole records before it are sent, no error (a torn tail)', async () => {
    const { errors, received } = await run((bytes, offsets) => bytes.subarray(0, (offsets[2] as number) + 12), 'truncated')
    expect(received).toEqual(['m0', 'm1', 'marker'])
    expect(errors).toEqual([])
  })
})
