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

  it('NO_PROXY: IP addresses compared as addresses, IPv6 with or without brackets, each with an optional port', () => {
    expect(via({ ...env, NO_PROXY: '10.1.2.3' }, 'mqtt://10.1.2.3')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: '10.1.2.3' }, 'mqtt://10.1.2.30')).toBe('socks5://a:3')
    expect(via({ ...env, NO_PROXY: '0:0:0:0:0:0:0:1' }, 'ws://[::1]:9001/')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: 'fd00::7' }, 'ws://[fd00:0::7]/')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: '::ffff:10.0.0.1' }, 'ws://[::ffff:a00:1]/')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: '[::1]:9001' }, 'ws://[::1]:9001/')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: '[::1]:9001' }, 'ws://[::1]:9002/')).toBe('http://h:1')
    expect(via({ ...env, NO_PROXY: '10.1.2.3:1883' }, 'mqtt://10.1.2.3:1883')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: '10.1.2.3:1883' }, 'mqtts://10.1.2.3:8883')).toBe('socks5://a:3')
  })

  it('NO_PROXY: CIDR ranges of IPv4 and IPv6 addresses, never matching a name', () => {
    const cidr = { ...env, NO_PROXY: '10.0.0.0/8, 192.168.1.128/25, fd00::/8, [fe80::]/10' }
    expect(via(cidr, 'mqtt://10.200.3.4')).toBeUndefined()
    expect(via(cidr, 'mqtt://11.0.0.1')).toBe('socks5://a:3')
    expect(via(cidr, 'mqtt://192.168.1.200')).toBeUndefined()
    expect(via(cidr, 'mqtt://192.168.1.127')).toBe('socks5://a:3')
    expect(via(cidr, 'ws://[fd12:3456::1]/')).toBeUndefined()
    expect(via(cidr, 'ws://[fe80::1]/')).toBeUndefined()
    expect(via(cidr, 'ws://[fe00::1]/')).toBe('http://h:1')
    expect(via(cidr, 'ws://10.example.com/')).toBe('http://h:1')
    expect(via({ ...env, NO_PROXY: '0.0.0.0/0' }, 'mqtt://203.0.113.9')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: '0.0.0.0/0' }, 'ws://[2001:db8::1]/')).toBe('http://h:1')
    expect(via({ ...env, NO_PROXY: '10.0.0.0/33' }, 'mqtt://10.0.0.1')).toBe('socks5://a:3')
  })

  it('NO_PROXY: `*.example.com` is `.example.com` is `example.com`, and `*` only alone means every host', () => {
    for (const entry of ['*.example.com', '.example.com', 'example.com', 'EXAMPLE.com.']) {
      expect(via({ ...env, NO_PROXY: entry }, 'wss://iot.Example.com./'), entry).toBeUndefined()
      expect(via({ ...env, NO_PROXY: entry }, 'wss://example.com/'), entry).toBeUndefined()
      expect(via({ ...env, NO_PROXY: entry }, 'wss://example.com.evil.net/'), entry).toBe('http://s:2')
    }
    expect(via({ ...env, NO_PROXY: 'internal, *' }, 'mqtt://anything')).toBeUndefined()
    expect(via({ ...env, NO_PROXY: '*example.com' }, 'wss://example.com/')).toBe('http://s:2')
  })

  it('`proxy: false` ignores the environment; `proxy` given ignores it too', () => {
    expect(chooseProxy(false, env)(endpoint('ws://broker/'))).toBeUndefined()
    expect(chooseProxy('http://own:8', { ...env, NO_PROXY: '*' })(endpoint('ws://broker/'))?.url).toBe('http://own:8')
  })

  it('a variable that is not a usable proxy URL is refused at connect, naming it', () => {
    expect(() => chooseProxy(undefined, { HTTPS_PROXY: 'socks4://p:1' })).toThrow(
      new UnsupportedOptionError('the environment variable HTTPS_PROXY: socks4:// proxies are not supported: use http:// or https:// (HTTP CONNECT) or socks5:// (socks5h:// to resolve names at the proxy)'),
    )
  })
})

describe('parseProxyUrl', () => {
  it('takes credentials (percent-decoded), curl`s port 1080, and a bare host:port as HTTP', () => {
    expect(parseProxyUrl('`proxy`', 'socks5h://u:p%40ss@proxy.corp')).toEqual({ url: 'socks5h://proxy.corp:1080', protocol: 'socks5h', hostname: 'proxy.corp', port: 1080, username: 'u', password: 'p@ss' })
    expect(parseProxyUrl('`proxy`', 'proxy:3128')).toEqual({ url: 'http://proxy:3128', protocol: 'http', hostname: 'proxy', port: 3128 })
  })

  it('takes https:// (CONNECT over TLS to the proxy), on 443 unless the URL names a port, as curl does', () => {
    expect(parseProxyUrl('`proxy`', 'https://u:p@proxy.corp')).toEqual({ url: 'https://proxy.corp:443', protocol: 'http', hostname: 'proxy.corp', port: 443, username: 'u', password: 'p' })
    expect(parseProxyUrl('`proxy`', 'HTTPS://[::1]:8443')).toEqual({ url: 'https://[::1]:8443', protocol: 'http', hostname: '::1', port: 8443 })
    expect(chooseProxy(undefined, { HTTPS_PROXY: 'https://p:1' })(endpoint('wss://broker/'))?.url).toBe('https://p:1')
  })

  it('keeps a port the URL names even when it is the scheme`s own (http://proxy:80 is not 1080)', () => {
    expect(parseProxyUrl('`proxy`', 'http://proxy:80').port).toBe(80)
    expect(parseProxyUrl('`proxy`', 'http://u:p@[fd00::1]:80').port).toBe(80)
    expect(parseProxyUrl('`proxy`', 'http://proxy').port).toBe(1080)
  })

  it('refuses what it cannot use, without showing the password', () => {
    expect(() => parseProxyUrl('`proxy`', 'socks4://p:1')).toThrow(/socks4:\/\/ proxies are not supported/)
    expect(() => parseProxyUrl('`proxy`', 'http://u:secret@:1')).toThrow(/`proxy` is not a proxy URL: "http:\/\/u:\*\*\*@:1"/)
  })
})
