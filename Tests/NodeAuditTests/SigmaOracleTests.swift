import Foundation
import Testing
import TestSupport

/// nodeaudit's Sigma matches against an independent reading: pySigma's SQLite backend run
/// over the fields nodeaudit's view gives of the same events, rule by rule (`SigmaOracle`).
/// Needs the tools' virtual environment (`Scripts/setup --test`). The shipped rules are
/// compared on their live triggers in ShippedSigmaKernelTests.
@Suite("Sigma: nodeaudit against pySigma's SQLite backend")
struct SigmaOracleTests {
    static let logs = [Fixtures.corpusFile("exec-net-login.raw.log"), Fixtures.fixtureFile("ecs-cases.raw.log"),
                       Fixtures.fixtureFile("kernel-cases.raw.log"), Fixtures.fixtureFile("sigma-cases.raw.log")]

    @Test("every rule the tests use matches the same events in both, on the corpus, the fixtures and crafted triggers", arguments: [
        "sigma/oracle.yml", "sigma/ecs-cases.yml", "sigma/detection-tests.yml",
    ])
    func agreement(file: String) throws {
        let result = try SigmaOracle.disagreements(rules: [Fixtures.fixtureFile(file)], logs: Self.logs)
        #expect(result.differences.isEmpty, "\(result.differences)")
        // The oracle is no formality: most rules match something.
        #expect(result.rules > 0 && result.matching >= result.rules - 1, "\(result.matching) of \(result.rules) rules match")
    }
}
