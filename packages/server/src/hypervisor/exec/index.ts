/**
 * @module hypervisor/exec
 * Compile and run (spec §07): python, javascript, typescript, rust, c, cpp and bash, each in a
 * fresh MicroVM.
 */
export { EXEC_LIMITS, ExecService, type CompileAndRunInput, type CompileAndRunResult, type ExecTestCase, type RunOutcome } from './exec-service.js';
export { assertToolchain, LANGUAGE_SPECS, LANGUAGES, type Language, type LanguageSpec } from './languages.js';
