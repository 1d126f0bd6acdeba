// The client's side of the debug log: every line names its event and client, whatever fields it carries.
import { describe, expect, it } from 'vitest'
import { Log } from '../../lib/log/log.js'
import type { LogFields } from '../../lib/log/logger.js'

describe('Log', () => {
  it('keeps `event` and `clientId` when a line has fields of the same name (a page event, say)', () => {
    const lines: LogFields[] = []
    const keep = (fields: LogFields): void => void lines.push(fields)
    const log = new Log({ debug: keep, info: keep, warn: keep, error: keep }, 'c1')
    log.info('lifecycle', { page: 'offline', event: 'offline', clientId: 'other' }, 'the browser went offline')
    expect(lines).toEqual([{ event: 'lifecycle', clientId: 'c1', page: 'offline' }])
  })

  it('survives a logger that throws', () => {
    const log = new Log({ debug: () => { throw new Error('no') }, info: () => undefined, warn: () => undefined, error: () => undefined }, 'c1')
    expect(() => log.debug('attempt', {}, 'x')).not.toThrow()
  })
})
