import { execFile, spawnSync } from 'node:child_process'
import { accessSync, constants, readdirSync, readFileSync, statSync } from 'node:fs'
import { chmod, copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeCertsScript, runScript } from '../support/certs.js'
import { kitDir } from '../support/mosquitto.js'
import { runUsers } from '../support/passwd.js'

const run = promisify(execFile)

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return ['data', 'log', 'node_modules'].includes(entry.name) ? [] : files(path)
    return [path]
  })
}

/** `docker compose` (plugin) or `docker-compose` (standalone), if one works here; the engine is not needed. */
function composeCommand(): string[] | undefined {
  if (spawnSync('docker', ['compose', 'version'], { stdio: 'ignore' }).status === 0) return ['docker', 'compose']
  if (spawnSync('docker-compose', ['version'], { stdio: 'ignore' }).status === 0) return ['docker-compose']
  return undefined
}

describe('mosquitto/ kit files', () => {
  const scripts = files(kitDir).filter((f) => f.endsWith('.sh'))
  const compose = readFileSync(join(kitDir, 'docker-compose.yml'), 'utf8')

  it('has the scripts the README documents', () => {
    expect(scripts.map((f) => relative(kitDir, f)).sort()).toEqual(['certs/make-certs.sh', 'rebuild_image.sh', 'users.sh'])
  })

  it.each(scripts.map((f) => [relative(kitDir, f), f]))('%s is executable, starts with a bash shebang and passes bash -n', async (_, path) => {
    accessSync(path, constants.X_OK)
    expect(statSync(path).mode & 0o111).toBe(0o111)
    expect(readFileSync(path, 'utf8')).toMatch(/^#!\/usr\/bin\/env bash\n/)
    await run('bash', ['-n', path])
  })

  it('docker-compose.yml pins eclipse-mosquitto to a 2.0.x tag, mounts config/data/log, publishes the listeners and restarts', () => {
    expect(compose).toMatch(/^\s+image: eclipse-mosquitto:2\.0\.\d+\s*$/m)
    expect(compose).toMatch(/^\s+restart: unless-stopped\s*$/m)
    for (const mount of ['./:/mosquitto/config:ro', './data:/mosquitto/data', './log:/mosquitto/log']) expect(compose).toContain(`- ${mount}`)
    // Every listener of both profiles is published on the same port.
    for (const profile of ['mosquitto.conf', 'mosquitto-secure.conf']) {
      const conf = readFileSync(join(kitDir, profile), 'utf8')
      for (const [, port] of conf.matchAll(/^\s*listener\s+(\d+)/gm)) expect(compose).toContain(`- "${port}:${port}"`)
    }
  })

  it('the profiles only use paths under /mosquitto/ and listener lines the test harness can rewrite', () => {
    for (const profile of ['mosquitto.conf', 'mosquitto-secure.conf']) {
      const conf = readFileSync(join(kitDir, profile), 'utf8')
      for (const line of conf.split('\n').filter((l) => /^\s*(persistence_location|log_dest file|password_file|acl_file|cafile|certfile|keyfile)\b/.test(l))) {
        expect(line).toMatch(/\s\/mosquitto\//)
      }
      for (const line of conf.split('\n').filter((l) => /^\s*listener\b/.test(l))) expect(line).toMatch(/^\s*listener\s+\d+(\s+\S+)?\s*$/)
    }
  })

  it("the README's system-install sed line renders the secured profile with Debian's paths", async () => {
    const readme = readFileSync(join(kitDir, 'README.md'), 'utf8')
    const line = readme.split('\n').find((l) => l.startsWith("sed -e 's#/mosquitto/config/#"))
    expect(line).toMatch(/ > \/tmp\/mosquitto\.conf$/)
    const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-readme-'))
    try {
      await run('bash', ['-c', (line as string).replace('/tmp/mosquitto.conf', join(dir, 'mosquitto.conf'))], { cwd: kitDir })
      const conf = await readFile(join(dir, 'mosquitto.conf'), 'utf8')
      expect(conf).not.toMatch(/\s\/mosquitto\//)
      expect(conf).not.toMatch(/^log_dest stdout/m)
      for (const expected of ['password_file /etc/mosquitto/passwd', 'acl_file /etc/mosquitto/acl', 'persistence_location /var/lib/mosquitto/', 'log_dest file /var/log/mosquitto/mosquitto.log', 'keyfile /etc/mosquitto/certs/server.key']) {
        expect(conf).toContain(expected)
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  // CI installs Debian's standalone docker-compose (.ci/run): there a missing tool fails this test.
  const docker = composeCommand()
  const skipCompose = !docker && !process.env.CI
  if (skipCompose) process.stderr.write('\n!!! SKIPPING the docker-compose.yml check: no `docker compose` or `docker-compose` here (apt-get install docker-compose). With CI=true it fails instead.\n\n')
  it.skipIf(skipCompose)(`${docker?.join(' ') ?? 'docker compose'} -f mosquitto/docker-compose.yml config accepts the file (both profiles) and refuses a broken one`, async () => {
    if (!docker) throw new Error('neither `docker compose` nor `docker-compose` works here: apt-get install docker-compose (see .ci/run)')
    const [command, ...args] = docker
    const config = (file: string, env: NodeJS.ProcessEnv = process.env) => run(command as string, [...args, '-f', file, 'config'], { env })
    const dev = await config(join(kitDir, 'docker-compose.yml'))
    expect(dev.stdout).toMatch(/mosquitto\.conf/)
    const secure = await config(join(kitDir, 'docker-compose.yml'), { ...process.env, MOSQUITTO_CONF: 'mosquitto-secure.conf' })
    expect(secure.stdout).toMatch(/mosquitto-secure\.conf/)
    // The tool really validates: a misspelt service option in a copy is refused.
    const dir = await mkdtemp(join(tmpdir(), 'iotpubsub-compose-'))
    try {
      await writeFile(join(dir, 'docker-compose.yml'), compose.replace(/^(\s+)restart:/m, '$1restartt:'))
      await expect(config(join(dir, 'docker-compose.yml'))).rejects.toThrow(/restartt/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('mosquitto/certs/make-certs.sh', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotpubsub-make-certs-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  const x509 = async (file: string, ...args: string[]) => (await run('openssl', ['x509', '-in', join(dir, file), '-noout', ...args])).stdout

  it('makes a CA, a server certificate for localhost, 127.0.0.1, ::1 and the names given, and client certificates with CN = username', async () => {
    await runScript(dir, ['server', 'broker.example.com', '192.0.2.10'])
    await runScript(dir, ['client', 'sensor-1', 'dashboard'])
    const san = await x509('server.crt', '-ext', 'subjectAltName')
    for (const name of ['DNS:localhost', 'IP Address:127.0.0.1', 'DNS:broker.example.com', 'IP Address:192.0.2.10']) expect(san).toContain(name)
    expect(await x509('server.crt', '-ext', 'extendedKeyUsage')).toContain('TLS Web Server Authentication')
    expect(await x509('clients/sensor-1.crt', '-subject')).toMatch(/CN ?= ?sensor-1/)
    expect(await x509('clients/sensor-1.crt', '-ext', 'extendedKeyUsage')).toContain('TLS Web Client Authentication')
    for (const cert of ['server.crt', 'clients/sensor-1.crt', 'clients/dashboard.crt']) {
      await run('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, cert)])
    }
    for (const key of ['ca.key', 'server.key', 'clients/sensor-1.key']) expect((await stat(join(dir, key))).mode & 0o777).toBe(0o600)
  })

  it('is idempotent: a second run with the same arguments changes nothing', async () => {
    const snapshot = async () =>
      Object.fromEntries(await Promise.all(['ca.crt', 'ca.key', 'server.crt', 'server.key', 'clients/sensor-1.crt'].map(async (f) => [f, await readFile(join(dir, f), 'utf8')])))
    const before = await snapshot()
    expect(await runScript(dir, ['server', 'broker.example.com', '192.0.2.10'])).toMatch(/server\.crt is up to date/)
    expect(await runScript(dir, ['client', 'sensor-1'])).toMatch(/sensor-1\.crt is up to date/)
    expect(await snapshot()).toEqual(before)
  })

  it('makes a new server certificate (same CA) when the names change', async () => {
    const ca = await readFile(join(dir, 'ca.crt'), 'utf8')
    const before = await readFile(join(dir, 'server.crt'), 'utf8')
    expect(await runScript(dir, ['server', 'mqtt.example.org'])).toMatch(/new server certificate/)
    expect(await readFile(join(dir, 'server.crt'), 'utf8')).not.toBe(before)
    expect(await readFile(join(dir, 'ca.crt'), 'utf8')).toBe(ca)
    expect(await x509('server.crt', '-ext', 'subjectAltName')).not.toContain('broker.example.com')
  })

  it('refuses a username that cannot be an MQTT username / ACL %u', async () => {
    await expect(runScript(dir, ['client', 'a/b'])).rejects.toThrow(/not a usable username/)
    await expect(runScript(dir, ['client', 'x+y'])).rejects.toThrow(/not a usable username/)
  })

  /** Runs the script with no CERTS_DIR unless `env` gives one; never rejects. */
  const script = (path: string, args: string[], env: Record<string, string> = {}) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const { CERTS_DIR: _, ...rest } = process.env
      execFile(path, args, { cwd: tmpdir(), env: { ...rest, ...env } }, (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }))
    })

  it('without arguments makes the CA and a server certificate for localhost, 127.0.0.1 and ::1 next to itself, and says so', async () => {
    // A copy of the script in a folder of its own, as in a copy of the kit: the default CERTS_DIR is the script's folder.
    const kit = await mkdtemp(join(tmpdir(), 'iotpubsub-make-certs-default-'))
    try {
      await copyFile(makeCertsScript, join(kit, 'make-certs.sh'))
      const first = await script(join(kit, 'make-certs.sh'), [])
      expect(first.code, first.stderr).toBe(0)
      expect(first.stdout).toContain(`In ${kit}:\n`)
      expect(first.stdout).toMatch(/^ {2}made {2}ca\.crt ca\.key\s.*the CA/m)
      expect(first.stdout).toMatch(/^ {2}made {2}server\.crt server\.key\s.*DNS:localhost,IP:127\.0\.0\.1,IP:::1$/m)
      expect(first.stdout).toContain(`${join(kit, 'make-certs.sh')} server NAME|IP`)
      const san = (await run('openssl', ['x509', '-in', join(kit, 'server.crt'), '-noout', '-ext', 'subjectAltName'])).stdout
      expect(san.split('\n')[1]?.trim()).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1')
      await run('openssl', ['verify', '-CAfile', join(kit, 'ca.crt'), join(kit, 'server.crt')])
      for (const key of ['ca.key', 'server.key']) expect((await stat(join(kit, key))).mode & 0o777).toBe(0o600)
      // Again: everything is kept, and the listing says so.
      const before = await readFile(join(kit, 'server.crt'), 'utf8')
      const second = await script(join(kit, 'make-certs.sh'), [])
      expect(second.code).toBe(0)
      expect(second.stdout).toMatch(/^ {2}kept {2}ca\.crt ca\.key\s/m)
      expect(second.stdout).toMatch(/^ {2}kept {2}server\.crt server\.key\s/m)
      expect(await readFile(join(kit, 'server.crt'), 'utf8')).toBe(before)
    } finally {
      await rm(kit, { recursive: true, force: true })
    }
  })

  it('-h and --help print the usage (its comment text, no code) on stdout, exit 0 and make nothing', async () => {
    const nowhere = join(dir, 'not-made-by-help')
    for (const flag of ['-h', '--help']) {
      const { code, stdout, stderr } = await script(makeCertsScript, [flag], { CERTS_DIR: nowhere })
      expect(code).toBe(0)
      expect(stderr).toBe('')
      expect(stdout).toMatch(/^Makes the certificates of the broker kit/)
      for (const form of ['certs/make-certs.sh  ', 'certs/make-certs.sh server [NAME|IP ...]', 'certs/make-certs.sh client USERNAME', 'certs/make-certs.sh sign FILE.csr', 'certs/make-certs.sh ca ', '-h | --help']) {
        expect(stdout).toContain(form)
      }
      expect(stdout.trimEnd()).toMatch(/CA_SUBJECT \(default "\/CN=iotpubsub private CA"\)\.$/)
      // The old usage printed three lines of the script (`set -euo pipefail`, a blank, `usage() {`).
      expect(stdout).not.toMatch(/^#|^set -|\(\) \{|^\s*[{}]\s*$|^\s*(esac|fi|done)\s*$|;;/m)
    }
    await expect(stat(nowhere)).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('exits 2 with the usage on stderr, and makes nothing, for an unknown option or command or a missing argument', async () => {
    const nowhere = join(dir, 'not-made-by-mistakes')
    for (const [args, message] of [[['--bogus'], 'unknown option: --bogus'], [['-x'], 'unknown option: -x'], [['frob'], 'unknown command: frob'], [['client'], 'client needs at least one argument'], [['sign'], 'sign needs at least one argument']] as const) {
      const { code, stdout, stderr } = await script(makeCertsScript, [...args], { CERTS_DIR: nowhere })
      expect(code, args.join(' ')).toBe(2)
      expect(stdout).toBe('')
      expect(stderr).toMatch(new RegExp(`^make-certs\\.sh: ${message}\nMakes the certificates`))
    }
    await expect(stat(nowhere)).rejects.toMatchObject({ code: 'ENOENT' })
  })
})

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
    await writeFile(fake, `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > "${dir}/argv"\ncat > "${dir}/stdin"\n`)
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

describe('mosquitto/rebuild_image.sh (with a stand-in docker: no engine on these machines)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotpubsub-rebuild-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** Runs the script with a fake `docker` that logs its calls and reports the container as `state`. */
  async function rebuild(state: string): Promise<{ code: number; calls: string; stderr: string }> {
    const bin = join(dir, `bin-${state.replace(' ', '-')}`)
    await run('mkdir', ['-p', bin])
    await writeFile(
      join(bin, 'docker'),
      [
        '#!/usr/bin/env bash',
        `echo "$*" >> "${bin}/calls"`,
        'case "$*" in',
        '  "compose ps -q mosquitto") echo 0123abcd ;;',
        `  inspect*) echo "${state}" ;;`,
        '  "compose logs"*) echo "Error: Unable to open pwfile" ;;',
        'esac',
        'exit 0',
        '',
      ].join('\n'),
    )
    await chmod(join(bin, 'docker'), 0o755)
    return new Promise((resolve) => {
      execFile(join(kitDir, 'rebuild_image.sh'), [], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, STARTUP_SECONDS: '1' } }, (error, _stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, calls: readFileSync(join(bin, 'calls'), 'utf8'), stderr })
      })
    })
  }

  it('takes the stack down, pulls, starts it again and checks that it keeps running', async () => {
    const { code, calls } = await rebuild('running 0')
    expect(code).toBe(0)
    expect(calls).toMatch(/compose config --quiet\ncompose down --remove-orphans\ncompose pull\ncompose up -d --force-recreate\n/)
  })

  it('shows the log and fails when mosquitto keeps restarting', async () => {
    const { code, stderr } = await rebuild('restarting 3')
    expect(code).toBe(1)
    expect(stderr).toMatch(/not running \(state: restarting 3\)/)
    expect(stderr).toContain('Error: Unable to open pwfile')
  })
})
