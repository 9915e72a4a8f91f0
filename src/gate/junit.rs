//! The verdict as JUnit XML (`gate.xml`): one `<testsuite>` per strategy, one `<testcase>`
//! per rule named after it (`budget.p99_ttft`), a failing case carrying `actual vs expected`
//! in its `<failure message>`. No timestamps or durations, so the file is byte-stable.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::error::GateError;
use super::judge::{GateVerdict, Status};

/// The JUnit XML text of `verdict`.
pub fn junit_xml(verdict: &GateVerdict) -> Result<String, GateError> {
    let mut report = Report::new(format!("throttlebox gate {}", verdict.scenario));
    let mut suites: Vec<TestSuite> = Vec::new();
    for case in &verdict.cases {
        let index = match suites
            .iter()
            .position(|suite| suite.name.as_str() == case.strategy)
        {
            Some(index) => index,
            None => {
                suites.push(TestSuite::new(case.strategy.as_str()));
                suites.len() - 1
            }
        };
        let status = match case.status {
            Status::Pass => TestCaseStatus::success(),
            Status::Fail => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                status.set_message(case.message.as_str());
                status.set_type("gate");
                status.set_description(case.message.as_str());
                status
            }
            Status::Skipped => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(case.message.as_str());
                status
            }
        };
        let mut test_case = TestCase::new(case.rule.as_str(), status);
        test_case.set_classname(format!("{}.{}", verdict.scenario, case.strategy));
        if case.status == Status::Pass {
            test_case.set_system_out(case.message.as_str());
        }
        suites[index].add_test_case(test_case);
    }
    report.add_test_suites(suites);
    Ok(report.to_string()?)
}
