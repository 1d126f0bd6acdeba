// What `retain` means, the same under MQTT 5 and 3.1.1 against a real Mosquitto: the broker's stored value sent
// because of a subscription (or replayed from the client's cache to a late observer) is `retain: true`; a live
// publish is `retain: false`, even one published with the retain flag. A live message drops the cached value
// (it may or may not have replaced the stored one): under MQTT 5 a late observer then gets the new stored value
// from the broker (the re-ask), exactly once, and the observers already there get no duplicate. And a cleared
// retained value (an empty retained publish) reaches an observer with `cleared: true` as a ClearedMessage.
import { describe, expect, it } from 'vitest'
import { DecodeError, type ClearedMessage, type IotPubSubError, type Message } from '../../lib/node.js'
import { sharedBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { next, uniquePrefix, waitFor } from '../support/wait.js'

const shown = (m: Message<string>): string => `${m.topic.split('/').at(-1)}=${m.payload}${m.retain ? ' (r)' : ''}`

describe.skipIf(noMosquitto())('retain: one meaning on MQTT 5 and 3.1.1', () => {
  const bed = sharedBed('retained-meaning')
  const pool = bed.pool

  it.each([5, 4] as const)('MQTT %s: a live retained publish is retain false; a late observer gets the stored value, retain true, once', async (protocolVersion) => {
    const p = uniquePrefix(`retain-meaning-v${protocolVersion}`)
    const publisher = await pool.connected(bed.broker.tcpUrl)
    await publisher.publish(`${p}/u`, 'u1', { qos: 1, retain: true })
    await publisher.publish(`${p}/t`, 't1', { qos: 1, retain: true })
    const client = await pool.connected(bed.broker.tcpUrl, { protocolVersion })
    const first: string[] = []
    client.observe(`${p}/+`, { codec: 'text', qos: 1 }).subscribe((m) => first.push(shown(m)))
    await waitFor(() => first.length === 2, 'the stored values at the first observer')
    expect(first).toEqual(['u=u1 (r)', 't=t1 (r)'])

    // Published with the retain flag, forwarded live: retain false at the observer already there.
    await publisher.publish(`${p}/t`, 't2', { qos: 1, retain: true })
    await waitFor(() => first.length === 3, 'the live update at the first observer')
    expect(first[2]).toBe('t=t2')

    const late: string[] = []
    client.observe(`${p}/+`, { codec: 'text', qos: 1 }).subscribe((m) => late.push(shown(m)))
    if (protocolVersion === 5) {
      // The cache dropped t (the live t2 may or may not have replaced the stored value): the broker is asked again.
      await waitFor(() => late.length === 2, 'the stored values at the late observer (re-ask)')
      expect([...late].sort()).toEqual(['t=t2 (r)', 'u=u1 (r)'])
    } else {
      // MQTT 3.1.1 cannot ask again: what the cache holds, and t is not in it any more.
      expect(late).toEqual(['u=u1 (r)'])
    }
    const before = late.length
    // Another late observer (MQTT 5: served by the re-ask under way, or from the cache it filled).
    const third: string[] = []
    client.observe(`${p}/+`, { codec: 'text', qos: 1 }).subscribe((m) => third.push(shown(m)))
    if (protocolVersion === 5) await waitFor(() => third.length === 2, 'the stored values at the third observer')
    expect([...third].sort()).toEqual(protocolVersion === 5 ? ['t=t2 (r)', 'u=u1 (r)'] : ['u=u1 (r)'])

    // A marker after everything: nothing else came to anyone meanwhile (no duplicate at the first observer).
    await publisher.publish(`${p}/end`, 'end', { qos: 1 })
    await waitFor(() => first.includes('end=end') && late.includes('end=end') && third.includes('end=end'), 'the marker at every observer')
    expect(first).toEqual(['u=u1 (r)', 't=t1 (r)', 't=t2', 'end=end'])
    expect(late.slice(before)).toEqual(['end=end'])
    expect(third.filter((m) => !m.includes('(r)'))).toEqual(['end=end'])

    for (const topic of ['u', 't']) await publisher.publish(`${p}/${topic}`, '', { qos: 1, retain: true })
  })

  it('MQTT 5: a late observer of a busy retained topic gets its current stored value exactly once; the first observer no duplicate', async () => {
    const p = uniquePrefix('retain-busy')
    const publisher = await pool.connected(bed.broker.tcpUrl)
    await publisher.publish(`${p}/busy`, '0', { qos: 1, retain: true })
    const client = await pool.connected(bed.broker.tcpUrl, { protocolVersion: 5 })
    const first: Message<string>[] = []
    client.observe(`${p}/busy`, { codec: 'text', qos: 1 }).subscribe((m) => first.push(m))
    await waitFor(() => first.length === 1, 'the stored value at the first observer')
    const late: Message<string>[] = []
    const updates: Promise<void>[] = []
    for (let i = 1; i <= 400; i++) {
      updates.push(publisher.publish(`${p}/busy`, String(i), { qos: 1, retain: true }))
      // The dashboard mounts its late component in the middle of the updates.
      if (i === 100) {
        await waitFor(() => first.length > 5, 'live updates at the first observer')
        client.observe(`${p}/busy`, { codec: 'text', qos: 1 }).subscribe((m) => late.push(m))
      }
    }
    await Promise.all(updates)
    await waitFor(() => late.some((m) => m.payload === '400') && first.some((m) => m.payload === '400'), 'the last update at both observers')
    await publisher.publish(`${p}/busy`, 'end', { qos: 1 })
    await waitFor(() => late.at(-1)?.payload === 'end' && first.at(-1)?.payload === 'end', 'the marker at both observers')
    // The stored value comes at most once, and only before any live update: a live one is newer (a resend the
    // broker queued behind live messages, past its window, is older news and not delivered).
    const stored = late.filter((m) => m.retain)
    expect(stored.length).toBeLessThanOrEqual(1)
    if (stored.length === 1) expect(late[0]).toBe(stored[0])
    expect(first.filter((m) => m.retain).map((m) => m.payload)).toEqual(['0'])
    expect(first.map((m) => m.payload)).toEqual(['0', ...Array.from({ length: 400 }, (_, i) => String(i + 1)), 'end'])
    // Every value the late observer got is newer than the one before it.
    const values = late.filter((m) => m.payload !== 'end').map((m) => Number(m.payload))
    expect(values.every((n, i) => i === 0 || n > (values[i - 1] as number))).toBe(true)
    expect(values.at(-1)).toBe(400)
    await publisher.publish(`${p}/busy`, '', { qos: 1, retain: true })
  })
})

describe.skipIf(noMosquitto())('a cleared retained value', () => {
  const bed = sharedBed('retained-cleared')
  const pool = bed.pool

  it.each([5, 4] as const)('MQTT %s: reaches an observer with cleared: true as a ClearedMessage; without it, the codec runs as before', async (protocolVersion) => {
    const p = uniquePrefix(`cleared-v${protocolVersion}`)
    const publisher = await pool.connected(bed.broker.tcpUrl)
    await publisher.publish(`${p}/lamp`, { on: true }, { qos: 1, retain: true })
    const client = await pool.connected(bed.broker.tcpUrl, { protocolVersion })
    const errors: IotPubSubError[] = []
    client.errors$.subscribe((e) => errors.push(e))
    const withCleared: (Message<{ on: boolean }> | ClearedMessage)[] = []
    const plain: Message<{ on: boolean }>[] = []
    const bytes: Message<Uint8Array>[] = []
    client.observe<{ on: boolean }>(`${p}/+`, { codec: 'json', qos: 1, cleared: true }).subscribe((m) => withCleared.push(m))
    client.observe<{ on: boolean }>(`${p}/lamp`, { codec: 'json', qos: 1 }).subscribe((m) => plain.push(m))
    client.observe(`${p}/lamp`, { qos: 1 }).subscribe((m) => bytes.push(m))
    await waitFor(() => withCleared.length === 1 && plain.length === 1 && bytes.length === 1, 'the stored value at each observer')

    const decodeError = next(client.errors$, 'the DecodeError of the JSON observer without cleared')
    await publisher.publish(`${p}/lamp`, '', { qos: 1, retain: true })
    await waitFor(() => withCleared.length === 2 && bytes.length === 2, 'the clear at the observers')
    const cleared = withCleared[1]
    expect(cleared?.cleared).toBe(true)
    if (cleared?.cleared) {
      expect(cleared.payload).toBeUndefined()
      expect(cleared.raw).toBeInstanceOf(Uint8Array)
      expect(cleared.raw.length).toBe(0)
      expect(cleared.topic).toBe(`${p}/lamp`)
      expect(cleared.params).toEqual(['lamp'])
      expect(cleared.retain).toBe(false)
    }
    expect(withCleared[0]?.cleared).toBeUndefined()
    // Without the option: bytes gives the empty bytes, JSON a DecodeError (and no message).
    expect(bytes[1]?.raw.length).toBe(0)
    expect(bytes[1]?.cleared).toBeUndefined()
    const error = await decodeError
    expect(error).toBeInstanceOf(DecodeError)
    expect((error as DecodeError).topic).toBe(`${p}/lamp`)
    await publisher.publish(`${p}/end`, { on: false }, { qos: 1 })
    await waitFor(() => withCleared.length === 3, 'the marker')
    expect(plain).toHaveLength(1)
    expect(errors).toHaveLength(1)
  })

  it('cleared must be a boolean: UnsupportedOptionError, at once', async () => {
    const client = await pool.connected(bed.broker.tcpUrl)
    expect(() => client.observe('a/b', { cleared: 'yes' as unknown as boolean })).toThrow(/`cleared` must be false or true/)
  })
})
