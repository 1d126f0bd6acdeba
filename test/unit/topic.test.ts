import { describe, expect, it } from 'vitest'
import { assertTopicName, InvalidTopicError, matches, parseFilter, topic } from '../../lib/node.js'
import { matchParams } from '../../lib/topic.js'

describe('assertTopicName', () => {
  it.each([
    ['rooms/kitchen/temp'],
    ['a'],
    ['/leading/slash'],
    ['trailing/'],
    ['a//b'],
    ['$SYS/broker/uptime'],
    ['ünïcødé/温度'],
    ['x'.repeat(65_535)],
  ])('accepts %j', (name) => {
    expect(() => assertTopicName(name)).not.toThrow()
  })

  it.each([
    ['', /empty/],
    ['rooms/+/temp', /wildcards/],
    ['rooms/#', /wildcards/],
    ['a+b', /wildcards/],
    ['a\u0000b', /NUL/],
    ['x'.repeat(65_536), /65535/],
    ['€'.repeat(21_846), /65535/], // 65,538 bytes in UTF-8, fewer characters than the limit
  ])('rejects %j', (name, reason) => {
    expect(() => assertTopicName(name)).toThrow(InvalidTopicError)
    expect(() => assertTopicName(name)).toThrow(reason)
  })
})

describe('parseFilter', () => {
  it.each([
    ['a/b', 'a/b', undefined],
    ['#', '#', undefined],
    ['+', '+', undefined],
    ['a/+/c/#', 'a/+/c/#', undefined],
    ['+/+', '+/+', undefined],
    ['$share/group/a/+', 'a/+', 'group'],
    ['$share/g/#', '#', 'g'],
    ['$SYS/#', '$SYS/#', undefined],
  ])('accepts %j (matched as %j, group %j)', (filter, match, group) => {
    expect(parseFilter(filter)).toEqual({ filter, match, shareGroup: group })
  })

  it.each([
    ['', /empty/],
    ['a/#/b', /# must be/],
    ['a#', /# must be/],
    ['a/b#', /# must be/],
    ['a+/b', /\+ must be/],
    ['a/+b', /\+ must be/],
    ['a\u0000', /NUL/],
    ['$share/', /group name/],
    ['$share//a', /group name/],
    ['$share/group', /needs a filter/],
    ['$share/group/', /needs a filter/],
    ['$share/gr+oup/a', /group name/],
    ['$share/g/a/#/b', /# must be/],
  ])('rejects %j', (filter, reason) => {
    expect(() => parseFilter(filter)).toThrow(InvalidTopicError)
    expect(() => parseFilter(filter)).toThrow(reason)
  })
})

describe('topic()', () => {
  it('joins segments', () => {
    expect(topic('rooms', 'kitchen', 'temp')).toBe('rooms/kitchen/temp')
    expect(topic('devices', 42)).toBe('devices/42')
  })

  it.each([['kitchen/#'], ['+'], ['#'], ['a/b'], ['nul\u0000'], ['']])('refuses a segment %j that would change the topic', (segment) => {
    expect(() => topic('rooms', segment, 'temp')).toThrow(InvalidTopicError)
  })

  it('names the bad segment in the error', () => {
    const error = (() => {
      try {
        topic('rooms', 'kitchen/#')
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(InvalidTopicError)
    expect(error).toMatchObject({ name: 'InvalidTopicError', topic: 'kitchen/#' })
  })
})

describe('matches and params', () => {
  it.each([
    ['a/b', 'a/b', true, []],
    ['a/b', 'a/c', false, undefined],
    ['a/+', 'a/b', true, ['b']],
    ['a/+', 'a', false, undefined],
    ['a/+', 'a/b/c', false, undefined],
    ['a/+', 'a/', true, ['']],
    ['+/+', 'a/b', true, ['a', 'b']],
    ['a/#', 'a', true, ['']],
    ['a/#', 'a/b/c', true, ['b/c']],
    ['#', 'a/b', true, ['a/b']],
    ['+/b/#', 'x/b/y/z', true, ['x', 'y/z']],
    ['#', '$SYS/uptime', false, undefined],
    ['+/uptime', '$SYS/uptime', false, undefined],
    ['$SYS/#', '$SYS/uptime', true, ['uptime']],
    ['$SYS/+', '$SYS/uptime', true, ['uptime']],
    ['a/+/c', 'a/b/c', true, ['b']],
    ['/+', '/x', true, ['x']],
  ])('%j vs %j → %j %j', (filter, name, expected, params) => {
    expect(matches(filter, name)).toBe(expected)
    expect(matchParams(filter.split('/'), name)).toEqual(params)
  })
})

describe('characters MQTT 5 §1.5.4 forbids or lets the broker refuse', () => {
  const refused: Array<[string, string]> = [
    ['\u0001', 'U+0001'],
    ['\u0007', 'U+0007'],
    ['\n', 'U+000A'],
    ['\u001F', 'U+001F'],
    ['\u007F', 'U+007F'],
    ['\u0080', 'U+0080'],
    ['\u0085', 'U+0085'],
    ['\u009F', 'U+009F'],
    ['\uFDD0', 'U+FDD0'],
    ['\uFDEF', 'U+FDEF'],
    ['\uFFFE', 'U+FFFE'],
    ['\uFFFF', 'U+FFFF'],
    ['\u{1FFFE}', 'U+1FFFE'],
    ['\u{1FFFF}', 'U+1FFFF'],
    ['\u{8FFFE}', 'U+8FFFE'],
    ['\u{10FFFE}', 'U+10FFFE'],
    ['\u{10FFFF}', 'U+10FFFF'],
    ['\uD800', 'U+D800'], // a lone high surrogate: not valid UTF-8
    ['\uDFFF', 'U+DFFF'], // a lone low surrogate
    ['\uDC00\uD800', 'U+DC00'], // a pair in the wrong order is two lone surrogates
    ['\uD83D', 'U+D83D'], // half an emoji
  ]

  it.each(refused)('assertTopicName refuses %j, naming %s', (char, codePoint) => {
    const name = `rooms/a${char}b/temp`
    expect(() => assertTopicName(name)).toThrow(InvalidTopicError)
    expect(() => assertTopicName(name)).toThrow(codePoint)
  })

  it.each(refused)('parseFilter refuses %j, naming %s', (char, codePoint) => {
    const filter = `rooms/+/${char}/#`
    expect(() => parseFilter(filter)).toThrow(InvalidTopicError)
    expect(() => parseFilter(filter)).toThrow(codePoint)
    expect(() => parseFilter(`$share/g${char}/a`)).toThrow(codePoint)
  })

  it.each(refused)('topic() refuses a segment with %j, naming %s and the segment', (char, codePoint) => {
    const segment = `kitchen${char}`
    expect(() => topic('rooms', segment, 'temp')).toThrow(codePoint)
    expect(() => topic('rooms', segment, 'temp')).toThrow(expect.objectContaining({ name: 'InvalidTopicError', topic: segment }))
  })

  it.each([
    ['\u0000', /NUL \(U\+0000\)/],
    ['\u0007', /control character/],
    ['\u0090', /control character/],
    ['\uFDD5', /non-character/],
    ['\u{2FFFF}', /non-character/],
    ['\uDBFF', /lone surrogate.*not valid UTF-8/],
  ])('says what kind of character %j is', (char, kind) => {
    expect(() => assertTopicName(`a${char}`)).toThrow(kind)
  })

  it.each([
    [' ', 'U+0020, the first printable character'],
    ['~', 'U+007E, just below DEL'],
    ['\u00A0', 'U+00A0, just above the C1 controls'],
    ['\uFDCF', 'U+FDCF, just below the non-characters'],
    ['\uFDF0', 'U+FDF0, just above them'],
    ['\uFFFD', 'U+FFFD, the replacement character'],
    ['\uE000', 'U+E000, private use'],
    ['\u{10000}', 'U+10000, the first astral character'],
    ['😀', 'U+1F600, an emoji (a surrogate pair)'],
    ['\u{1FFFD}', 'U+1FFFD, just below an astral non-character'],
    ['\u{10FFFD}', 'U+10FFFD'],
  ])('accepts %j (%s) everywhere', (char) => {
    expect(() => assertTopicName(`rooms/${char}/temp`)).not.toThrow()
    expect(parseFilter(`rooms/${char}/#`).match).toBe(`rooms/${char}/#`)
    expect(topic('rooms', char, 'temp')).toBe(`rooms/${char}/temp`)
  })

  it('topic() still refuses a joined name over 65535 UTF-8 bytes', () => {
    expect(() => topic('x'.repeat(40_000), 'y'.repeat(30_000))).toThrow(/65535/)
    expect(topic('x'.repeat(40_000), 'y'.repeat(25_534))).toHaveLength(65_535)
  })
})
