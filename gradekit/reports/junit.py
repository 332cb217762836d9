"""JUnit XML: one <testsuite> for the submission, one <testcase> per property.

classname is the assignment and name the property, so CI dashboards group a class's results by
assignment. A property that failed carries a <failure>, one that could not run or timed out an
<error>; both hold the message in `message` and the counterexample, as the text report shows it, as
text. The score, maximum and seed are suite properties (with `checked`, the functions a check was
narrowed to, where it was) (the course's own seed as `seed_digest`, its
digest alone), as are `isolation`, the wall the code ran behind, and what the result was made from
(gradekit.engine.provenance: versions and digests); what the code printed is <system-out>.
Every text is gradekit.reports.inert's XML text: control characters as their escapes, nothing XML 1.0
cannot hold; ElementTree escapes the markup characters.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from gradekit.reports.inert import xml_text
from gradekit.reports.text import details, diagnosed, made_from
from gradekit.result import GradeResult, Status


def render(result: GradeResult) -> str:
    failures = sum(t.status is Status.FAILED for t in result.tests)
    errors = sum(t.status in (Status.ERROR, Status.TIMEOUT) for t in result.tests)
    root = ET.Element("testsuites")
    suite = ET.SubElement(
        root,
        "testsuite",
        {
            "name": xml_text(f"gradekit.{result.assignment}"),
            "tests": str(len(result.tests)),
            "failures": str(failures),
            "errors": str(errors),
            "skipped": str(sum(t.status is Status.UNCHECKED for t in result.tests)),
            "time": f"{result.seconds:.3f}",
        },
    )
    properties = ET.SubElement(suite, "properties")
    shown = [
        ("submission", result.submission),
        ("score", f"{result.score:g}"),
        ("max_score", f"{result.max_score:g}"),
    ]
    shown += [("checked", ", ".join(result.checked))] if result.checked else []  # a check of some functions
    shown += [("seed", str(result.seed))] if result.seed_digest is None else [("seed_digest", result.seed_digest)]
    shown += [("isolation", result.isolation)] if result.isolation is not None else []
    shown += made_from(result)
    shown += [("error", result.error)] if result.error else []
    shown += [("note", note) for note in result.notes]
    shown += [("known_mistake", " ".join(line.strip() for line in diagnosed(d))) for d in result.diagnosis]
    for name, value in shown:
        ET.SubElement(properties, "property", {"name": name, "value": xml_text(value)})
    for test in result.tests:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": xml_text(result.assignment), "name": xml_text(test.name), "time": f"{test.seconds:.3f}"},
        )
        if test.status is Status.PASSED:
            continue
        if test.status is Status.UNCHECKED:
            ET.SubElement(case, "skipped", {"message": xml_text(test.message)})
            continue
        tag = "failure" if test.status is Status.FAILED else "error"
        problem = ET.SubElement(
            case, tag, {"message": xml_text(test.message or test.status.value), "type": test.status.value}
        )
        problem.text = xml_text("\n".join(details(test)))
    if result.output:
        ET.SubElement(suite, "system-out").text = xml_text(result.output)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
