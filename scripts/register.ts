// `tsx --import ./scripts/register.ts`: lets Node import .wgsl files as text.
import { register } from 'node:module';

register('./wgsl-loader.ts', import.meta.url);
