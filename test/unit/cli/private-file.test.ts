import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkPrivateFilePath, writePrivateFile } from '../../../cli/private-file.js';

const dir = mkdtempSync(join(tmpdir(), 'pgm-private-'));

describe('--json FILE', () => {
  it('creates a new file with mode 0600', () => {
    const path = join(dir, 'new.json');
    checkPrivateFilePath(path);
    writePrivateFile(path, '{"ok":true}\n');
    expect(readFileSync(path, 'utf8')).toBe('{"ok":true}\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('ends an existing world-readable file with mode 0600 and only the new content', () => {
    const path = join(dir, 'old.json');
    writeFileSync(path, 'a much longer old content that must not survive', { mode: 0o644 });
    writePrivateFile(path, '{}\n');
    expect(readFileSync(path, 'utf8')).toBe('{}\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('fails when the path is a symbolic link, before the run and at the write, and leaves the link target alone', () => {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep me', { mode: 0o644 });
    const link = join(dir, 'link.json');
    symlinkSync(victim, link);
    expect(() => checkPrivateFilePath(link)).toThrow(/is a symbolic link/);
    expect(() => writePrivateFile(link, 'secret')).toThrow(/is a symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(statSync(victim).mode & 0o777).toBe(0o644);
  });

  it('fails when the path is a dangling symbolic link, without creating its target', () => {
    const target = join(dir, 'would-be-created');
    const link = join(dir, 'dangling.json');
    symlinkSync(target, link);
    expect(() => writePrivateFile(link, 'secret')).toThrow(/is a symbolic link/);
    expect(existsSync(target)).toBe(false);
  });

  it('fails when the path is not a regular file (a FIFO), without hanging', () => {
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    expect(() => checkPrivateFilePath(fifo)).toThrow(/not a regular file/);
    expect(() => writePrivateFile(fifo, '{}')).toThrow(/--json/);
  });
});
