/**
 * The package's entry point (`import … from 'graph-meetings'`): the programmatic server for test suites,
 * and the building blocks behind it for those who embed the service in their own Fastify process.
 */
export { GraphMeetingsServer, type GraphMeetingsServerOptions } from './programmatic.js';
export { buildApp, depsFromConfig, type AppDeps, type GraphMeetings } from './app.js';
export { loadConfig, ConfigError, type Config } from './config/config.js';
export { DEMO } from './domain/directory/demo-directory.js';
export { EmulatorClock } from './util/clock.js';
export { seededRandomness, type Randomness } from './util/randomness.js';
export { STATE_FORMAT, STATE_VERSION, type StateDocument } from './emulator/state.js';
export { SeedFileError, type SeedFile } from './emulator/seed-file.js';
