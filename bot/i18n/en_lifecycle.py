"""English: Value and lifecycle: a customer's value and stage, "Mark as lost", won back, churn."""

EN: dict[str, str] = {
    "field.value": "Value",
    "field.value.hint": "Yearly value in {currency}, e.g. 120000, 120,000 or 12万",
    "error.value.invalid": "Give the yearly value as a number, e.g. 120000, 120,000 or 12万.",
    "settings.currency": "Currency",
    "settings.currency.hint": "The ISO code customers' values are in, e.g. CNY, USD, EUR",
    "error.currency.invalid": "Give a currency's ISO code, e.g. CNY, USD or EUR.",
    "settings.grade_a_value": "Suggest grade A from a value of",
    "settings.grade_b_value": "Suggest grade B from a value of",
    "settings.grade_value.hint": "Customers worth at least this much a year; empty: not by value",
    "stage.prospect": "Prospect",
    "stage.new": "New",
    "stage.active": "Active",
    "stage.at_risk": "At risk",
    "stage.lost": "Lost",
    "stage.line": "*Stage* {stage} since {since} · *Value* {value}",
}
