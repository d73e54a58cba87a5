"""The OpenAPI 3.0 description of the managers' JSON API, served at /api/openapi.json."""

from __future__ import annotations

import copy
from typing import Any

from bot.experiments.declarations import FOCUS_AREAS, STATUSES
from bot.experiments.declarations import METRICS as EXPERIMENT_METRICS
from bot.metrics.queries import CONVERSATION_METRICS, CUTS, SURVEY_METRICS
from bot.web.api import BUCKETS, MAX_MONTHS, MAX_PAIN_POINTS, QUESTIONS
from bot.web.app import SESSION_COOKIE

METRICS = list(SURVEY_METRICS + CONVERSATION_METRICS)
OVERVIEW_METRICS = [*METRICS, "retention", "churn"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


NUMBER_OR_NULL = _nullable({"type": "number"})
INTERVAL = {
    "type": "array",
    "description": "[low, high]; an end is null when it cannot be computed.",
    "items": NUMBER_OR_NULL,
    "minItems": 2,
    "maxItems": 2,
}
# The verdict's decisions (bot.experiments.stats_verdict.Verdict).
DECISIONS = ("ship", "keep_control", "stop", "continue", "withheld")
DATE_TIME = {
    "type": "string",
    "format": "date-time",
    "description": "UTC, ISO 8601, e.g. 2026-11-01T00:00:00Z",
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "enum": ["bad_request", "unauthorized", "forbidden"]},
            "message": {"type": "string"},
        },
    },
    "Period": {
        "type": "object",
        "description": "A half-open range: start <= t < end.",
        "required": ["label", "start", "end"],
        "properties": {
            "label": {"type": "string", "example": "last 30 days"},
            "start": DATE_TIME,
            "end": DATE_TIME,
        },
    },
    "Cut": {
        "type": "object",
        "description": "Which conversations count; null means all.",
        "properties": {name: _nullable({"type": "string"}) for name in CUTS},
    },
    "MetricResult": {
        "type": "object",
        "description": (
            "A metric with its sample size and 95% confidence interval. NPS in points "
            "(-100 to 100, adjusted-Wald interval), rates in percent (Wilson), times in seconds "
            "(Student t); value is null without data."
        ),
        "required": ["value", "n", "ci_low", "ci_high", "counts", "too_few"],
        "properties": {
            "value": NUMBER_OR_NULL,
            "n": {"type": "integer", "minimum": 0},
            "ci_low": NUMBER_OR_NULL,
            "ci_high": NUMBER_OR_NULL,
            "counts": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "example": {"promoters": 120, "passives": 60, "detractors": 40},
            },
            "too_few": {
                "type": "boolean",
                "description": (
                    "An NPS or CSAT of fewer answers than the shop's minimum "
                    "(SUPPORTBOT_MIN_SAMPLE_SIZE, default 10): show 'too few answers (n = 7)', "
                    "not the value. Always false for other metrics and without data."
                ),
            },
        },
    },
    "Comparison": {
        "allOf": [
            _ref("MetricResult"),
            {
                "type": "object",
                "required": ["previous", "change", "significant"],
                "properties": {
                    "previous": _ref("MetricResult"),
                    "change": NUMBER_OR_NULL,
                    "change_ci_low": NUMBER_OR_NULL,
                    "change_ci_high": NUMBER_OR_NULL,
                    "significant": {
                        "type": "boolean",
                        "description": (
                            "Whether the change's 95% interval excludes zero; false when "
                            "either period has too few answers (too_few)."
                        ),
                    },
                },
            },
        ],
    },
    "Metrics": {
        "type": "object",
        "description": (
            "What `supportbot metrics --json` prints: `metrics` (each metric against the "
            "previous period), or with `by`, `groups` (each metric per topic, channel or variant)."
        ),
        "required": ["period", "previous_period", "cut"],
        "properties": {
            "period": _ref("Period"),
            "previous_period": _ref("Period"),
            "cut": _ref("Cut"),
            "metrics": {
                "type": "object",
                "description": "Keys: "
                + ", ".join(OVERVIEW_METRICS)
                + " (the last two only without a cut).",
                "additionalProperties": _ref("Comparison"),
            },
            "by": {"type": "string", "enum": list(CUTS)},
            "groups": {
                "type": "object",
                "description": 'Group name ("none": no value) to metric name to result.',
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": _ref("MetricResult"),
                },
            },
        },
    },
    "TrendPoint": {
        "allOf": [
            _ref("MetricResult"),
            {
                "type": "object",
                "required": ["bucket", "start", "end"],
                "properties": {
                    "bucket": {"type": "string", "format": "date"},
                    "start": DATE_TIME,
                    "end": DATE_TIME,
                },
            },
        ],
    },
    "Trend": {
        "type": "object",
        "required": [
            "metric",
            "label",
            "bucket",
            "months",
            "start",
            "end",
            "period",
            "cut",
            "points",
        ],
        "properties": {
            "metric": {"type": "string", "enum": METRICS},
            "label": {"type": "string"},
            "bucket": {"type": "string", "enum": list(BUCKETS)},
            "months": {"type": "integer"},
            "start": DATE_TIME,
            "end": DATE_TIME,
            "period": _ref("Period"),
            "cut": _ref("Cut"),
            "points": {
                "type": "array",
                "description": "Every bucket, oldest first; buckets without data have value null.",
                "items": _ref("TrendPoint"),
            },
            "takeaway": {
                "type": "string",
                "description": "One sentence about the trend (monthly buckets only).",
            },
        },
    },
    "Distribution": {
        "type": "object",
        "required": ["question", "label", "period", "cut", "n", "scores", "result"],
        "properties": {
            "question": {"type": "string", "enum": list(QUESTIONS)},
            "label": {"type": "string"},
            "period": _ref("Period"),
            "cut": _ref("Cut"),
            "n": {"type": "integer"},
            "scores": {
                "type": "array",
                "description": "Every score, NPS 0-10 or CSAT 1-5, with its number of answers.",
                "items": {
                    "type": "object",
                    "required": ["score", "count"],
                    "properties": {"score": {"type": "integer"}, "count": {"type": "integer"}},
                },
            },
            "result": _ref("MetricResult"),
        },
    },
    "PainPoints": {
        "type": "object",
        "required": ["period", "cut", "min_answers", "limit", "topics"],
        "properties": {
            "period": _ref("Period"),
            "cut": _ref("Cut"),
            "min_answers": {"type": "integer"},
            "limit": {"type": "integer"},
            "topics": {
                "type": "array",
                "description": "Worst first: lowest CSAT, then most detractors.",
                "items": {
                    "type": "object",
                    "required": ["topic", "label", "n", "csat", "nps", "detractor_share"],
                    "properties": {
                        "topic": {"type": "string"},
                        "label": {"type": "string"},
                        "n": {"type": "integer", "description": "Survey answers about the topic."},
                        "csat": _ref("MetricResult"),
                        "nps": _ref("MetricResult"),
                        "detractor_share": _ref("MetricResult"),
                    },
                },
            },
        },
    },
    "Cohorts": {
        "type": "object",
        "required": ["period", "as_of", "months", "offsets", "cohorts"],
        "properties": {
            "period": _ref("Period"),
            "as_of": DATE_TIME,
            "months": {"type": "integer"},
            "offsets": {
                "type": "array",
                "description": "Months after the first order: 1 .. months - 1.",
                "items": {"type": "integer"},
            },
            "cohorts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["cohort", "size", "retained", "rates"],
                    "properties": {
                        "cohort": {"type": "string", "example": "2026-01"},
                        "size": {"type": "integer"},
                        "retained": {
                            "type": "array",
                            "items": _nullable({"type": "integer"}),
                        },
                        "rates": {
                            "type": "array",
                            "description": "Percent per offset; null for months not over yet.",
                            "items": NUMBER_OR_NULL,
                        },
                    },
                },
            },
        },
    },
    "Alerts": {
        "type": "object",
        "description": (
            "The monitoring's open alerts, newest first: a headline metric of the last 7 days "
            "significantly worse than in the 28 days before, or a running experiment's harmed "
            "guardrail or sample ratio mismatch. One per condition; an alert that no longer "
            "holds is resolved and leaves this list."
        ),
        "required": ["alerts", "interval_seconds"],
        "properties": {
            "alerts": {"type": "array", "items": _ref("Alert")},
            "interval_seconds": {
                "type": "integer",
                "description": "Seconds between the website's checks (0: not scheduled).",
            },
        },
    },
    "Alert": {
        "type": "object",
        "description": (
            "One alert with the numbers of the latest check that found it. For a metric: the "
            "last 7 days (current) against the 28 days before (baseline); for an experiment's "
            "guardrail: the variant (current) against the control (baseline), in points or "
            "seconds; for an SRM: n_current is the exposed sessions."
        ),
        "required": ["id", "key", "kind", "message", "raised_at", "checked_at", "open"],
        "properties": {
            "id": {"type": "integer"},
            "key": {"type": "string", "description": "The condition, e.g. metric:csat."},
            "kind": {"type": "string", "enum": ["metric_drop", "guardrail_harmed", "srm"]},
            "metric": _nullable({"type": "string"}),
            "experiment": _nullable({"type": "string"}),
            "variant": _nullable({"type": "string"}),
            "message": {
                "type": "string",
                "description": "In plain English, with the numbers, n and the 95% interval.",
            },
            "raised_at": {"type": "string", "format": "date-time"},
            "checked_at": {"type": "string", "format": "date-time"},
            "resolved_at": _nullable({"type": "string", "format": "date-time"}),
            "open": {"type": "boolean"},
            "current_value": NUMBER_OR_NULL,
            "baseline_value": NUMBER_OR_NULL,
            "n_current": _nullable({"type": "integer"}),
            "n_baseline": _nullable({"type": "integer"}),
            "difference": NUMBER_OR_NULL,
            "ci_low": NUMBER_OR_NULL,
            "ci_high": NUMBER_OR_NULL,
            "p_value": NUMBER_OR_NULL,
        },
    },
    "Experiments": {
        "type": "object",
        "description": (
            "The experiments declared in data/experiments.yml (with the decisions recorded "
            "since), each analysed over all its exposed sessions, and the entries the file "
            "left out."
        ),
        "required": ["experiments", "problems"],
        "properties": {
            "experiments": {"type": "array", "items": _ref("Experiment")},
            "problems": {
                "type": "array",
                "description": "Entries of the file that were left out, with their line.",
                "items": {
                    "type": "object",
                    "required": ["line", "message"],
                    "properties": {
                        "line": {"type": "integer", "minimum": 1},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    },
    "Experiment": {
        "type": "object",
        "description": (
            "One experiment and its analysis. The first variant is the control. Estimates are "
            "in the metric's unit (NPS points, rates in percent, times in seconds); differences "
            "against the control in points or seconds, variant minus control."
        ),
        "required": [
            "name",
            "focus",
            "status",
            "hypothesis",
            "primary_metric",
            "primary_label",
            "minimum_detectable_effect",
            "start",
            "planned_end",
            "decision",
            "control",
            "variants",
            "exposures",
            "srm",
            "primary",
            "cuped",
            "guardrails",
            "remaining",
            "verdicts",
            "over_time",
        ],
        "properties": {
            "name": {"type": "string"},
            "focus": {"type": "string", "enum": list(FOCUS_AREAS)},
            "status": {"type": "string", "enum": list(STATUSES)},
            "hypothesis": {"type": "string"},
            "primary_metric": {"type": "string", "enum": list(EXPERIMENT_METRICS)},
            "primary_label": {"type": "string"},
            "minimum_detectable_effect": {
                "type": "number",
                "description": "In the primary metric's points (seconds for times).",
            },
            "start": _nullable({"type": "string", "format": "date"}),
            "planned_end": _nullable({"type": "string", "format": "date"}),
            "decision": _nullable(
                {
                    "type": "object",
                    "description": "The variant shipped, by whom and why (decided only).",
                    "required": ["ship", "by", "reason", "at"],
                    "properties": {
                        "ship": {"type": "string"},
                        "by": {"type": "string"},
                        "reason": {"type": "string"},
                        "at": {"type": "string"},
                    },
                }
            ),
            "control": {"type": "string", "description": "The control variant's name."},
            "variants": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "weight", "exposures"],
                    "properties": {
                        "name": {"type": "string"},
                        "weight": {"type": "number"},
                        "exposures": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "Exposed conversation sessions.",
                        },
                    },
                },
            },
            "exposures": {
                "type": "object",
                "description": "Variant name to exposed sessions.",
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
            "srm": {
                "type": "object",
                "description": "Sample ratio mismatch: chi-square of exposures to the weights.",
                "required": ["p_value", "mismatch", "message"],
                "properties": {
                    "p_value": NUMBER_OR_NULL,
                    "mismatch": {
                        "type": "boolean",
                        "description": "p below the threshold: every verdict is withheld.",
                    },
                    "message": {"type": "string"},
                },
            },
            "primary": _ref("ExperimentMetric"),
            "cuped": _nullable(
                {
                    "type": "object",
                    "description": (
                        "The primary metric against the control adjusted by CUPED for a "
                        "pre-exposure covariate (sessions without one get the known ones' "
                        "mean), beside the unadjusted difference; null for a metric counted "
                        "per suggestion. Without usable pre-exposure data, `note` says so and "
                        "`against_control` is empty."
                    ),
                    "required": [
                        "covariate",
                        "with_covariate",
                        "sessions",
                        "note",
                        "against_control",
                    ],
                    "properties": {
                        "covariate": {"type": "string"},
                        "with_covariate": {
                            "type": "object",
                            "description": "Variant to sessions whose customer has a covariate.",
                            "additionalProperties": {"type": "integer", "minimum": 0},
                        },
                        "sessions": {
                            "type": "object",
                            "description": "Variant to sessions with a value of the metric.",
                            "additionalProperties": {"type": "integer", "minimum": 0},
                        },
                        "note": _nullable({"type": "string"}),
                        "against_control": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": [
                                    "variant",
                                    "difference",
                                    "ci",
                                    "p_value",
                                    "unadjusted_difference",
                                    "unadjusted_ci",
                                    "variance_reduction",
                                    "theta",
                                ],
                                "properties": {
                                    "variant": {"type": "string"},
                                    "difference": NUMBER_OR_NULL,
                                    "ci": INTERVAL,
                                    "p_value": NUMBER_OR_NULL,
                                    "unadjusted_difference": NUMBER_OR_NULL,
                                    "unadjusted_ci": INTERVAL,
                                    "variance_reduction": {
                                        **NUMBER_OR_NULL,
                                        "description": "1 - Var(adjusted) / Var(unadjusted).",
                                    },
                                    "theta": NUMBER_OR_NULL,
                                },
                            },
                        },
                    },
                }
            ),
            "guardrails": {"type": "array", "items": _ref("ExperimentMetric")},
            "remaining": _nullable(
                {
                    "type": "string",
                    "description": (
                        "The sample the minimum detectable effect still needs at 80% power, "
                        "and how long at the current rate; null without control data."
                    ),
                }
            ),
            "verdicts": {
                "type": "object",
                "description": "Variant name (not the control) to its verdict.",
                "additionalProperties": {
                    "type": "object",
                    "required": ["decision", "text"],
                    "properties": {
                        "decision": {"type": "string", "enum": list(DECISIONS)},
                        "text": {"type": "string"},
                    },
                },
            },
            "over_time": {
                "type": "array",
                "description": (
                    "Per variant, the primary metric against the control at the end of each "
                    "day from the first exposure (sessions exposed up to then), for watching "
                    "the always-valid interval narrow; days with too little data are left out."
                ),
                "items": {
                    "type": "object",
                    "required": ["variant", "points"],
                    "properties": {
                        "variant": {"type": "string"},
                        "points": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["day", "n", "difference", "ci", "always_valid_ci"],
                                "properties": {
                                    "day": {"type": "string", "format": "date"},
                                    "n": {"type": "integer", "minimum": 0},
                                    "difference": NUMBER_OR_NULL,
                                    "ci": INTERVAL,
                                    "always_valid_ci": INTERVAL,
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "ExperimentMetric": {
        "type": "object",
        "required": [
            "metric",
            "label",
            "unit",
            "higher_is_better",
            "max_drop",
            "variants",
            "against_control",
        ],
        "properties": {
            "metric": {"type": "string", "enum": list(EXPERIMENT_METRICS)},
            "label": {"type": "string"},
            "unit": {"type": "string", "enum": ["points", "percent", "seconds"]},
            "higher_is_better": {"type": "boolean"},
            "max_drop": _nullable(
                {
                    "type": "number",
                    "description": "A guardrail's tolerated harm in points; null for the primary.",
                }
            ),
            "variants": {
                "type": "object",
                "description": "Variant name to its estimate with its 95% interval.",
                "additionalProperties": {
                    "type": "object",
                    "required": ["n", "value", "ci_low", "ci_high", "too_few"],
                    "properties": {
                        "n": {"type": "integer", "minimum": 0},
                        "value": NUMBER_OR_NULL,
                        "ci_low": NUMBER_OR_NULL,
                        "ci_high": NUMBER_OR_NULL,
                        "too_few": {
                            "type": "boolean",
                            "description": "An NPS or CSAT of fewer answers than the minimum.",
                        },
                    },
                },
            },
            "against_control": {
                "type": "array",
                "description": "Each variant with at least 2 units in both it and the control.",
                "items": {
                    "type": "object",
                    "required": [
                        "variant",
                        "n",
                        "difference",
                        "ci",
                        "always_valid_ci",
                        "p_value",
                        "always_valid_p_value",
                        "holm_p_value",
                        "relative",
                        "chance_to_beat_control",
                        "expected_loss",
                        "method",
                        "guardrail",
                    ],
                    "properties": {
                        "variant": {"type": "string"},
                        "n": {"type": "integer", "description": "Units in both variants."},
                        "difference": NUMBER_OR_NULL,
                        "ci": {**INTERVAL, "description": "Fixed-horizon 95% interval."},
                        "always_valid_ci": {
                            **INTERVAL,
                            "description": "95% confidence sequence: valid at every look.",
                        },
                        "p_value": NUMBER_OR_NULL,
                        "always_valid_p_value": NUMBER_OR_NULL,
                        "holm_p_value": _nullable(
                            {
                                "type": "number",
                                "description": "Holm-adjusted across the guardrails; null "
                                "for the primary metric.",
                            }
                        ),
                        "relative": _nullable(
                            {"type": "number", "description": "The difference / |control|."}
                        ),
                        "chance_to_beat_control": _nullable(
                            {"type": "number", "minimum": 0, "maximum": 1}
                        ),
                        "expected_loss": NUMBER_OR_NULL,
                        "method": {"type": "string"},
                        "guardrail": _nullable(
                            {
                                "type": "string",
                                "enum": ["harmed", "unresolved", "holds"],
                                "description": (
                                    "For a guardrail: harm shown, a drop beyond max_drop not "
                                    "yet ruled out, or holds; null for the primary metric."
                                ),
                            }
                        ),
                    },
                },
            },
        },
    },
}

PARAMETERS: dict[str, Any] = {
    "period": {
        "name": "period",
        "in": "query",
        "description": (
            "A period in plain English: 'last 30 days', 'this month', 'last quarter', "
            "'last 12 months', 'Q3 2026', 'since 1 October'."
        ),
        "schema": {"type": "string", "default": "last 30 days"},
    },
    **{
        name: {
            "name": name,
            "in": "query",
            "description": f"Only conversations of this {name}.",
            "schema": {"type": "string"},
        }
        for name in CUTS
    },
    "months": {
        "name": "months",
        "in": "query",
        "description": "How many calendar months, up to the end of the period.",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_MONTHS, "default": 12},
    },
}

COMMON = [{"$ref": f"#/components/parameters/{name}"} for name in ("period", *CUTS)]


def _response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorized"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}


def _operation(
    operation_id: str, summary: str, schema: str, extra: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "tags": ["metrics"],
            "parameters": [*COMMON, *(extra or [])],
            "responses": {"200": _response(summary, schema), **ERRORS},
        }
    }


PATHS: dict[str, Any] = {
    "/api/metrics": _operation(
        "getMetrics",
        "Every metric of a period against the previous period, or broken down",
        "Metrics",
        [
            {
                "name": "by",
                "in": "query",
                "description": "Break every metric down by topic, channel or variant.",
                "schema": {"type": "string", "enum": list(CUTS)},
            }
        ],
    ),
    "/api/metrics/{metric}/trend": _operation(
        "getTrend",
        "One metric per week or month, with 95% intervals",
        "Trend",
        [
            {
                "name": "metric",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": METRICS},
            },
            {
                "name": "bucket",
                "in": "query",
                "schema": {"type": "string", "enum": list(BUCKETS), "default": "month"},
            },
            {"$ref": "#/components/parameters/months"},
        ],
    ),
    "/api/metrics/{question}/distribution": _operation(
        "getDistribution",
        "How many answers each NPS or CSAT score got",
        "Distribution",
        [
            {
                "name": "question",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "enum": list(QUESTIONS)},
            }
        ],
    ),
    "/api/pain-points": _operation(
        "getPainPoints",
        "Topics with the lowest CSAT and most detractors",
        "PainPoints",
        [
            {
                "name": "min_answers",
                "in": "query",
                "description": "Leave out topics with fewer survey answers than this.",
                "schema": {"type": "integer", "minimum": 1, "default": 20},
            },
            {
                "name": "limit",
                "in": "query",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PAIN_POINTS,
                    "default": 8,
                },
            },
        ],
    ),
    "/api/cohorts": _operation(
        "getCohorts",
        "Repeat-purchase retention by first-order month (no topic, channel or variant)",
        "Cohorts",
        [{"$ref": "#/components/parameters/months"}],
    ),
    "/api/experiments": {
        "get": {
            "operationId": "getExperiments",
            "summary": (
                "The declared experiments: per-variant estimates, comparisons against the "
                "control (fixed-horizon and always-valid), SRM, guardrails and the verdicts"
            ),
            "tags": ["experiments"],
            "responses": {
                "200": _response("The declared experiments and their analysis", "Experiments"),
                "401": ERRORS["401"],
                "403": ERRORS["403"],
            },
        }
    },
    "/api/alerts": {
        "get": {
            "operationId": "getAlerts",
            "summary": "The monitoring's open alerts (metric drops, harmed guardrails, SRM)",
            "tags": ["monitoring"],
            "responses": {
                "200": _response("The open alerts", "Alerts"),
                "401": ERRORS["401"],
                "403": ERRORS["403"],
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "tags": ["meta"],
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.0 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {
        "title": "Supportbot metrics API",
        "version": "1.0.0",
        "description": (
            "The customer-experience metrics of the shop, for managers: the same numbers as "
            "`supportbot metrics --json`, each with its n and 95% confidence interval. "
            "Authenticate with a manager's session cookie or `Authorization: Bearer <token>` "
            "with a token made for the API (`supportbot token --role manager --audience api`; "
            "a chat token is refused)."
        ),
    },
    "servers": [{"url": "/"}],
    "security": [{"bearerAuth": []}, {"sessionCookie": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": (
                    "A manager's role token for the API: "
                    "`supportbot token --role manager --audience api`."
                ),
            },
            "sessionCookie": {
                "type": "apiKey",
                "in": "cookie",
                "name": SESSION_COOKIE,
                "description": "The session of a manager signed in at /staff/login.",
            },
        },
        "parameters": PARAMETERS,
        "responses": {
            "BadRequest": _response(
                "An unknown period, metric or bucket, or a malformed number", "Error"
            ),
            "Unauthorized": {
                "description": (
                    "No credentials, or a token that is forged, expired or not made for the API"
                ),
                "headers": {
                    "WWW-Authenticate": {"schema": {"type": "string"}, "example": "Bearer"}
                },
                "content": {"application/json": {"schema": _ref("Error")}},
            },
            "Forbidden": _response("Signed in, but not as a manager", "Error"),
        },
        "schemas": SCHEMAS,
    },
}


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the document (callers may change it)."""
    return copy.deepcopy(DOCUMENT)
