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
