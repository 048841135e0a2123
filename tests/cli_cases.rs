//! The command line as data: each `tests/cmd/*.toml` gives the arguments, standard input and
//! the expected standard output, standard error and exit code of one `dpa` run (trycmd, as
//! rage's tests/cmd). Help texts, JSON errors, `-` for standard input, exit codes, `--out`
//! refusals, escaping. Run with `TRYCMD=overwrite` to update the expected text, then review it.

#[test]
fn cli_cases() {
    trycmd::TestCases::new()
        .default_bin_name("dpa")
        .register_bin("dpa", std::path::PathBuf::from(env!("CARGO_BIN_EXE_dpa")))
        // Help wraps at the terminal width; fix it so the cases do not depend on the runner.
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .case("tests/cmd/*.toml");
}
