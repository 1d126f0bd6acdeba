// Issue 27: which proxy each URL goes through, read from the `proxy` option or the environment as curl reads it.
import { describe, expect, it } from 'vitest'
import { UnsupportedOptionError } from '../../lib/errors.js'
import { nodePlatform } from '../../lib/options/endpoints.js'
import { chooseProxy, parseProxyUrl } from '../../lib/options/proxy.js'
import { resolveOptions } from '../../lib/options/resolve-options.js'

const endpoint = (url: string) => resolveOptions({ url, proxy: false }, nodePlatform).endpoints[0] as NonNullable<ReturnType<typeof resolveOptions>['endpoints'][0]>
const via = (env: Record<string, string>, url: string) => chooseProxy(undefined, env)(endpoint(url))?.url

describe('chooseProxy: the environment, as curl reads it', () => {
  const env = { HTTP_PROXY: 'http://h:1', HTTPS_PROXY: 'http://s:2', ALL_PROXY: 'socks5://a:3' }

  it('ws:// takes HTTP_PROXY, wss:// HTTPS_PROXY, mqtt:// and mqtts:// ALL_PROXY', () => {
    expect(via(env, 'ws://broker/')).toBe('http://h:1')
    expect(via(env, 'wss://broker/')).toBe('http://s:2')
    expect(via(env, 'mqtt://broker')).toBe('socks5://a:3')
    expect(via(env, 'mqtts://broker')).toBe('socks5://a:3')
  })

  it('each falls back to ALL_PROXY; lowercase names first; an empty variable is unset', () => {
    expect(via({ ALL_PROXY: 'http://a:3' }, 'ws://broker/')).toBe('http://a:3')
    expect(via({ ALL_PROXY: 'http://a:3', https_proxy: '' }, 'wss://broker/')).toBe('http://a:3')
    expect(via({ http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:1' }, 'ws://broker/')).toBe('http://lower:1')
    expect(via({}, 'ws://broker/')).toBeUndefined()
  })

  it('loopback goes through the proxy unless NO_PROXY lists it', () => {
    expect(via(env, 'ws://127.0.0.1:9001/')).toBe('http://h:1')
    expect(via({ ...env, NO_PROXY: 'localhost,127.0.0.1' }, 'ws://127.0.0.1:9001/')).toBeUndefined()
    expect(via({ ...env, no_proxy: '::1' }, 'ws://[::1]:9001/')).toBeUndefined()
  })

  it('NO_PROXY: `*`, domains with their subdomains (leading dot or not), and ports', () => {
    expect(via({ ...env, NO_PROXY: '*' }, 'mqtt://anything')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: 'example.com' }, 'wss://iot.example.com/')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: '.example.com' }, 'wss://example.com/')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: 'example.com' }, 'wss://notexample.com/')).toBe('http://s:2')
    expect(via({ ...env, NO_PROXY: 'broker:8883' }, 'mqtts://broker:8883')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: 'broker:8883' }, 'mqtt://broker:1883')).toBe('socks5://a:3')
    expect(via({ ...env, NO_PROXY: 'a.com, b.com' }, 'ws://b.com/')).toBeUndefined()
  })

  it('`proxy: false` ignores the environment; `proxy` given ignores it too', () => {
    expect(chooseProxy(false, env)(endpoint('ws://broker/'))).toBeUndefined()
    expect(chooseProxy('http://own:8', { ...env, NO_PROXY: '*' })(endpoint('ws://broker/'))?.url).toBe('http://own:8')
  })

  it('a variable that is not a usable proxy URL is refused at connect, naming it', () => {
    expect(() => chooseProxy(undefined, { HTTPS_PROXY: 'https://p:1' })).toThrow(
      new UnsupportedOptionError('the environment variable HTTPS_PROXY: https:// proxies are not supported: use http:// (HTTP CONNECT) or socks5:// (socks5h:// to resolve names at the proxy)'),
    )
  })
})

describe('parseProxyUrl', () => {
  it('takes credentials (percent-decoded), curl`s port 1080, and a bare host:port as HTTP', () => {
    expect(parseProxyUrl('`proxy`', 'socks5h://u:p%40ss@proxy.corp')).toEqual({ url: 'socks5h://proxy.corp:1080', protocol: 'socks5h', hostname: 'proxy.corp', port: 1080, username: 'u', password: 'p@ss' })
    expect(parseProxyUrl('`proxy`', 'proxy:3128')).toEqual({ url: 'http://proxy:3128', protocol: 'http', hostname: 'proxy', port: 3128 })
  })

  it('refuses what it cannot use, without showing the password', () => {
    expect(() => parseProxyUrl('`proxy`', 'socks4://p:1')).toThrow(/socks4:\/\/ proxies are not supported/)
    expect(() => parseProxyUrl('`proxy`', 'http://u:secret@:1')).toThrow(/`proxy` is not a proxy URL: "http:\/\/u:\*\*\*@:1"/)
  })
})
