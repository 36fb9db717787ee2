/**
 * The shared Chromium launcher: binary discovery order, the error that tells a user how to
 * install Chromium, and the flag set (WebGPU via SwiftShader, plain-IP WebRTC candidates).
 */
import { describe, expect, it } from 'vitest';
import { ChromiumNotFoundError, chromiumArgs, chromiumCandidates, findChromium } from '../../src/harness/index.ts';

describe('findChromium', () => {
  it('prefers CHROMIUM_PATH', () => {
    expect(chromiumCandidates({ CHROMIUM_PATH: '/opt/x/chrome' })[0]).toBe('/opt/x/chrome');
    expect(findChromium({ CHROMIUM_PATH: process.execPath })).toBe(process.execPath);
  });

  it('fails with install advice when CHROMIUM_PATH points nowhere', () => {
    let err: unknown;
    try {
      findChromium({ CHROMIUM_PATH: '/nonexistent/chromium' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ChromiumNotFoundError);
    expect((err as Error).name).toBe('ChromiumNotFoundError');
    expect((err as Error).message).toMatch(/apt-get install -y chromium/);
    expect((err as Error).message).toMatch(/CHROMIUM_PATH/);
  });

  it('falls back to /usr/bin/chromium', () => {
    expect(chromiumCandidates({})).toContain('/usr/bin/chromium');
  });
});

describe('chromiumArgs', () => {
  it('enables SwiftShader WebGPU and plain-IP WebRTC candidates by default', () => {
    const args = chromiumArgs();
    expect(args).toContain('--enable-unsafe-webgpu');
    expect(args).toContain('--use-webgpu-adapter=swiftshader');
    expect(args).toContain('--disable-features=WebRtcHideLocalIpsWithMdns');
    expect(args).toContain('--no-sandbox');
  });

  it('can leave SwiftShader out for machines with a real GPU', () => {
    expect(chromiumArgs({ swiftshader: false })).not.toContain('--use-webgpu-adapter=swiftshader');
  });

  it('merges repeated feature flags, since Chromium keeps only the last one', () => {
    const args = chromiumArgs({ args: ['--disable-features=Foo', '--enable-features=Bar'] });
    expect(args.filter((a) => a.startsWith('--disable-features='))).toEqual(['--disable-features=WebRtcHideLocalIpsWithMdns,Foo']);
    expect(args.filter((a) => a.startsWith('--enable-features='))).toEqual(['--enable-features=Vulkan,Bar']);
  });
});
