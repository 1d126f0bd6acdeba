// The `auth` option where the user hands it over: it needs MQTT 5 and the lean link, and is checked, never copied
// or changed.
import { describe, expect, it } from 'vitest'
import type { AuthMethod } from '../../lib/auth/auth-method.js'
import { scramSha256 } from '../../lib/auth/scram.js'
import { UnsupportedOptionError } from '../../lib/errors.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import type { MQTTClientOptions } from '../../lib/options/client-options.js'
import { resolveOptions } from '../../lib/options/resolve-options.js'

const resolve = (options: Record<string, unknown>) => resolveOptions({ url: 'mqtt://broker:1883', ...options } as MQTTClientOptions, nodePlatform)

describe('the auth option', () => {
  it('is kept as given, and makes "auto" MQTT 5 (a fallback to 3.1.1 would connect without it)', () => {
    const auth = scramSha256({ username: 'user', password: 'pencil' })
    const resolved = resolve({ auth })
    expect(resolved.auth).toBe(auth)
    expect(resolved.protocolVersion).toBe(5)
    expect(resolve({ auth, protocolVersion: 5 }).protocolVersion).toBe(5)
    expect(resolve({}).auth).toBeUndefined()
    expect(resolve({}).protocolVersion).toBe('auto')
  })

  it('is refused with protocolVersion 4, with the MQTT.js link, and when it is no method', () => {
    const auth: AuthMethod = { method: 'token', start: () => ({}) }
    expect(() => resolve({ auth, protocolVersion: 4 })).toThrow(/needs MQTT 5/)
    expect(() => resolve({ auth, link: 'mqttjs' })).toThrow(/re-authenticate/)
    for (const bad of [null, 'SCRAM-SHA-256', {}, { method: '', start: () => ({}) }, { method: 'x' }, { method: 'a\u0000b', start: () => ({}) }]) {
      expect(() => resolve({ auth: bad })).toThrow(UnsupportedOptionError)
    }
  })

  it('leaves the options and the method untouched', () => {
    const auth: AuthMethod = Object.freeze({ method: 'token', start: () => ({}) })
    const options = Object.freeze({ url: 'mqtt://broker:1883', auth })
    expect(() => resolveOptions(options, nodePlatform)).not.toThrow()
  })
})
