import Vertex
import XCTest

final class GoogleLocationTests: XCTestCase {
    func testRegions() {
        let cases: [(input: String, error: String?)] = [
            ("europe-west3", nil),
            ("us-central1", nil),
            ("europe-west3-a", "--region europe-west3-a is a zone; give its region, europe-west3"),
            ("us", "--region us is a multi-region; Vertex AI jobs need a region such as europe-west3"),
            ("europe-west99", "--region europe-west99: unknown Vertex AI region (for example europe-west3 or us-central1)"),
            ("", "--region : unknown Vertex AI region (for example europe-west3 or us-central1)"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(message { _ = try GoogleLocation.region(input) }, expected, input)
        }
    }

    func testZones() {
        let cases: [(input: String, error: String?)] = [
            ("europe-west3-a", nil),
            ("us-central1-f", nil),
            ("europe-west3", "--zone europe-west3 is a region; Workbench instances need a zone such as europe-west3-a"),
            ("europe-west99-a", "--zone europe-west99-a: unknown region europe-west99 (for example europe-west3-a)"),
            ("europe-west3-ab", "--zone europe-west3-ab: not a zone (for example europe-west3-a)"),
            ("europe-west3-", "--zone europe-west3-: not a zone (for example europe-west3-a)"),
            ("zone", "--zone zone: not a zone (for example europe-west3-a)"),
        ]
        for (input, expected) in cases {
            XCTAssertEqual(message { _ = try GoogleLocation.zone(input) }, expected, input)
        }
    }

    func testProjects() {
        for good in ["tweetiment-xyz", "proj-123", "example.com:my-project"] {
            XCTAssertNil(message { _ = try GoogleLocation.project(good) }, good)
        }
        for bad in ["abc", "My-Project", "1project", "project-", "a_b_c_d_e", String(repeating: "a", count: 31)] {
            XCTAssertNotNil(message { _ = try GoogleLocation.project(bad) }, bad)
        }
    }

    func testCronSchedules() {
        let good = ["0 6 * * *", "*/15 * * * *", "0 9-17 * * mon-fri", "30 2 1,15 * *", "0 0 * jan,jul 0", "5 4 * * 7"]
        for schedule in good {
            XCTAssertNil(message { try CronSchedule.check(schedule) }, schedule)
        }
        let bad: [(String, String)] = [
            ("0 6 * *", "--cron \"0 6 * *\": expected 5 fields (minute hour day-of-month month day-of-week), got 4"),
            ("60 * * * *", "--cron \"60 * * * *\": \"60\" is not a valid minute (0-59)"),
            ("0 24 * * *", "--cron \"0 24 * * *\": \"24\" is not a valid hour (0-23)"),
            ("0 6 0 * *", "--cron \"0 6 0 * *\": \"0\" is not a valid day of month (1-31)"),
            ("0 6 * 13 *", "--cron \"0 6 * 13 *\": \"13\" is not a valid month (1-12)"),
            ("0 6 * * 8", "--cron \"0 6 * * 8\": \"8\" is not a valid day of week (0-7)"),
            ("*/0 * * * *", "--cron \"*/0 * * * *\": \"*/0\" is not a valid minute (0-59)"),
            ("5-1 * * * *", "--cron \"5-1 * * * *\": \"5-1\" is not a valid minute (0-59)"),
            ("0 6 * * funday", "--cron \"0 6 * * funday\": \"funday\" is not a valid day of week (0-7)"),
        ]
        for (schedule, expected) in bad {
            XCTAssertEqual(message { try CronSchedule.check(schedule) }, expected, schedule)
        }
    }
}

/// The message of the `VertexError` that `body` throws, or nil when it throws nothing.
func message(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch let error as VertexError {
        return error.message
    } catch {
        return "unexpected \(error)"
    }
}
