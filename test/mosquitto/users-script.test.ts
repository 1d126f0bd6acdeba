// mosquitto/users.sh on its own: the password file it writes, its refusals, its prompt, and that a password
// never reaches a command line. docker-secure.test.ts runs it on a host without mosquitto_passwd.
import { execFile, spawnSync } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kitDir } from '../support/mosquitto.js'
import { runUsers } from '../support/passwd.js'

const run = promisify(execFile)

describe('mosquitto/users.sh', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotpubsub-users-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('adds users from stdin into a new 600 file of PBKDF2-SHA512 hashes, lists and removes them', async () => {
    const passwd = join(dir, 'passwd')
    expect((await runUsers(passwd, ['add', 'alice'], 'correct horse battery staple\n')).code).toBe(0)
    expect((await runUsers(passwd, ['add', 'bob'], 'hunter2')).code).toBe(0) // no final newline
    const text = await readFile(passwd, 'utf8')
    expect(text).toMatch(/^alice:\$7\$101\$/m)
    expect(text).not.toContain('correct horse')
    expect((await stat(passwd)).mode & 0o777).toBe(0o600)
    expect((await runUsers(passwd, ['list'])).stdout).toBe('alice\nbob\n')
    const removed = await runUsers(passwd, ['remove', 'bob'])
    expect(removed.code).toBe(0)
    expect(removed.stderr).toMatch(/kill -HUP/)
    expect((await runUsers(passwd, ['list'])).stdout).toBe('alice\n')
    expect((await runUsers(passwd, ['remove', 'bob'])).code).toBe(1)
  })

  it('changes the password of an existing user', async () => {
    const passwd = join(dir, 'passwd-change')
    await runUsers(passwd, ['add', 'alice'], 'one\n')
    const first = await readFile(passwd, 'utf8')
    await runUsers(passwd, ['add', 'alice'], 'two\n')
    const second = await readFile(passwd, 'utf8')
    expect(second).not.toBe(first)
    expect(second.split('\n').filter(Boolean)).toHaveLength(1)
  })

  it('refuses an empty password, a missing one and names that break the ACL', async () => {
    const passwd = join(dir, 'passwd-bad')
    expect((await runUsers(passwd, ['add', 'alice'], '\n')).stderr).toMatch(/empty password/)
    expect((await runUsers(passwd, ['add', 'alice'], '')).stderr).toMatch(/no password/)
    for (const name of ['a/b', 'a+b', 'a#', 'a:b', 'a b']) expect((await runUsers(passwd, ['add', name], 'x\n')).code).toBe(2)
    expect((await runUsers(passwd, ['add'], 'x\n')).code).toBe(2)
  })

  const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0
  it.skipIf(!hasScript)('prompts twice without echo on a terminal (run under script(1) for a pseudo-terminal)', async () => {
    const passwd = join(dir, 'passwd-tty')
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const child = execFile('script', ['-qec', `${join(kitDir, 'users.sh')} add dave`, '/dev/null'], { env: { ...process.env, PASSWD_FILE: passwd } }, (error, stdout) =>
        resolve({ code: error ? Number(error.code) : 0, stdout }),
      )
      child.stdin?.on('error', () => undefined)
      child.stdin?.end('pw-dave\npw-dave\n')
    })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/Password for dave: [\s\S]*Again: /)
    expect(await readFile(passwd, 'utf8')).toMatch(/^dave:\$7\$/)
  })

  it('never passes the password on a command line (mosquitto_passwd sees only the file and the name)', async () => {
    // A fake mosquitto_passwd first on PATH records its argv and stdin.
    const bin = join(dir, 'bin')
    await run('mkdir', ['-p', bin])
    const fake = join(bin, 'mosquitto_passwd')
    // It records its arguments and input, and writes the password file (the second-to-last argument) as the real one does.
    await writeFile(fake, `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > "${dir}/argv"\ncat > "${dir}/stdin"\necho 'alice:$7$fake' > "\${@: -2:1}"\n`)
    await chmod(fake, 0o755)
    const result = await new Promise<number>((resolve) => {
      const child = execFile(join(kitDir, 'users.sh'), ['add', 'alice'], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PASSWD_FILE: join(dir, 'passwd-fake') } }, (error) =>
        resolve(error ? Number(error.code) : 0),
      )
      child.stdin?.on('error', () => undefined)
      child.stdin?.end('s3cret-Pw\n')
    })
    expect(result).toBe(0)
    const argv = await readFile(join(dir, 'argv'), 'utf8')
    expect(argv).not.toContain('s3cret-Pw')
    expect(argv).not.toMatch(/^-b$/m)
    expect(await readFile(join(dir, 'stdin'), 'utf8')).toBe('s3cret-Pw\ns3cret-Pw\n')
  })
})
