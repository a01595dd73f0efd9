"""English: the customer survey in a linked channel (services.surveys)."""

EN: dict[str, str] = {
    # what the customer reads in its channel
    "survey.ask": "We have resolved the matter you raised with us. How satisfied are you with how we handled it?",
    "survey.scale": "1 = not at all satisfied · 5 = very satisfied. One answer per survey.",
    "survey.thanks": "Thank you, <@{user}>: your answer is recorded.",
    "survey.gone": "This survey is closed.",
    "survey.answered": "This survey has been answered already; the first answer stands. Thank you!",
    "survey.team": "This question is for the customer: answers from the team are not recorded. "
    "What a customer tells you goes in a satisfaction check-in.",
    # what the team reads
    "survey.alert": "*{customer}* answered {score}/5 to the survey after complaint #{number} was resolved "
    "(<@{user}> in <#{channel}>). It may need your attention.",
    "settings.customer_survey": "Customer survey (linked channels)",
    "settings.customer_survey.hint": "When a complaint is resolved, ask the customer in its linked channel how "
    "satisfied it is (1–5).",
    "survey.setting.on": "On",
    "survey.setting.off": "Off",
}
