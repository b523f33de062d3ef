"""The safety rules: which concepts, together in one clause, signal danger.

A rule fires when every entry of `need` is present in a clause (an entry that is a tuple
means "any of these"), none of `block` is, every entry of `need_in_message` appears
somewhere in the message, and, for a `negatable` rule, at least one occurrence of that
concept is not negated ("mijn pleegvader slaat me nooit"). Concept names are those of
`bot.safety.lexicon` plus a few derived in `bot.safety.detector`:

- TOUCH_ANY    "aanraken", or "raken"/"zitten"/"komen" with "aan"
- HARM_DO_ANY  "iets aandoen", or "iets ... aan" with "doen"
- HIT_ANY      a hitting word, or a weak one ("duwen", "knijpen") with force ("tegen de muur")
- DV_TARGET    someone else is hurt: "elkaar", "haar"/"hem", or two people in the clause
- I_HIT        the child is the one hitting ("ik sla", "sla ik")
- ME_REFLEXIVE "me" refers back to the child ("ik wil me ophangen", not "hij slaat me")

Cheap constants only (imported by the Rasa NLU process).
"""

from __future__ import annotations

from dataclasses import dataclass

Need = str | tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    name: str
    category: str
    need: tuple[Need, ...]
    block: tuple[str, ...] = ()
    need_in_message: tuple[Need, ...] = ()
    negatable: str | None = None
    # (concept, window): a token of `concept` within `window` tokens after the first
    # needed concept blocks the rule ("ik sla de bal").
    block_after: tuple[tuple[str, int], ...] = ()
    # (concept, window): a token of `concept` must stand within `window` tokens of the
    # first needed concept ("ik ga dood", not "... waar mensen dood gaan").
    near: tuple[str, int] | None = None


_GAMES = ("BLOCK_GAME",)
_NEAR = (("BLOCK_NEAR", 3), ("SKIP_OVER", 4))

RULES: tuple[Rule, ...] = (
    # --- danger now -------------------------------------------------------------------
    Rule("not safe", "danger_now",
         (("NOT_SAFE", "UNSAFE"), ("I", "ME", "HOME", "HOME_PHRASE"))),
    Rule("in danger", "danger_now", ("IN_DANGER", ("I", "ME"))),
    Rule("threat to kill me", "danger_now", (("KILL", "KILL_SEQ"), "ME"),
         block=("REFL", "ME_REFLEXIVE", "LAUGH", *_GAMES)),
    Rule("threatened", "danger_now", ("THREAT", ("ME", "I")), block=("DREIG_TE",)),
    Rule("someone will hurt me", "danger_now", ("HARM_DO_ANY", "ME"),
         block=("REFL", "ME_REFLEXIVE")),
    Rule("weapon", "danger_now",
         ("WEAPON", ("THREAT", "ME", "WEAPON_ACT"),
          ("PERSON_HOME", "PERSON_OTHER", "HE_SHE", "ME", "I")),
         block=("BLOCK_FOOD", *_GAMES)),
    Rule("afraid of someone", "danger_now", ("AFRAID_OF",)),
    Rule("afraid to go home", "danger_now", ("NOT_DARE_HOME",)),
    Rule("someone is coming and I am afraid", "danger_now", ("COMING",),
         need_in_message=("AFRAID",)),
    Rule("call the police", "danger_now", ("POLICE", "CALL")),
    Rule("ran away", "danger_now", ("RUNAWAY", "I"), block=("BLOCK_PET",)),
    Rule("followed", "danger_now", (("FOLLOW", "FOLLOW_SEQ"), "ME"),
         need_in_message=("STRANGER",)),
    Rule("kidnapped", "danger_now", ("KIDNAP",), negatable="KIDNAP"),
    Rule("fire", "danger_now", ("FIRE",)),
    Rule("hiding from someone", "danger_now", ("HIDE", ("ME", "REFL", "I")),
         need_in_message=(("HE_SHE", "PERSON_HOME", "PERSON_OTHER"),), block=_GAMES),
    Rule("someone does not wake up", "danger_now", ("WONT_WAKE",), block=("I",),
         need_in_message=(("PERSON_HOME", "HE_SHE"),)),
    Rule("someone comes back and I am afraid", "danger_now", ("COMING_BACK",),
         need_in_message=(("AFRAID", "NOT_DARE"),)),
    Rule("breaking in", "danger_now", ("BREAK_IN", ("HE_SHE", "PERSON_HOME", "PERSON_OTHER"))),
    Rule("wants to get in", "danger_now", ("WANTS_IN", ("STRANGER", "HE_SHE"))),
    # --- suicide ------------------------------------------------------------------------
    Rule("suicide word", "suicide", (("SUICIDE_WORD", "SUICIDE_PHRASE"),)),
    Rule("wants to be dead", "suicide", ("WANT_DEAD",)),
    Rule("wishes to be dead", "suicide", ("DEAD_WISH",), block=("FIGURE_DEAD", "BORING")),
    Rule("thinks of dying", "suicide", ("THINK_OF_DYING", "THINK")),
    Rule("going to die", "suicide", ("GO_DIE", "I"), block=("FIGURE_DEAD", "LAUGH", "BORING"),
         near=("I", 2)),
    Rule("pills", "suicide", ("PILLS", "TAKE", ("ALL_OF_IT", "DEAD"))),
    Rule("not want to live", "suicide", ("NOT_LIVE", "WANT")),
    Rule("not want to be there", "suicide", (("NOT_THERE", "NOT_ON_EARTH"),),
         need_in_message=(("WANT", "BETTER"),)),
    Rule("stop living", "suicide", ("STOP_LIVING",)),
    Rule("if I were dead", "suicide", ("DEAD_IF",), block=("LAUGH", "FIGURE_DEAD")),
    Rule("never born", "suicide", ("NEVER_BORN",)),
    Rule("off a high place", "suicide", ("OFF_HIGH", ("I", "GO")), block=_GAMES),
    Rule("in front of a train", "suicide", ("IN_FRONT_OF",), block=_GAMES),
    Rule("end it", "suicide", ("END_IT",)),
    Rule("never wake up", "suicide", ("NEVER_WAKE",), need_in_message=("WANT",)),
    Rule("life pointless", "suicide", ("NO_POINT", "LIFE")),
    Rule("jump", "suicide", ("JUMP", "HIGH_PLACE"), block=_GAMES),
    Rule("hang myself", "suicide", (("HANG", "HANG_SEQ"), ("ME", "REFL"))),
    Rule("kill myself", "suicide", (("KILL", "KILL_SEQ"), ("REFL", "ME_REFLEXIVE")),
         block=("LAUGH", *_GAMES)),
    Rule("do myself harm", "suicide", ("HARM_DO_ANY", ("REFL", "ME_REFLEXIVE"))),
    Rule("cut wrists", "suicide", ("WRIST", "CUT_THROUGH")),
    # --- self-harm ----------------------------------------------------------------------
    Rule("self-harm word", "self_harm", (("SH_WORD", "SH_PHRASE"),)),
    Rule("hurt myself", "self_harm", (("SH_CUT", "SH_HURT", "HIT", "HIT_WEAK"), "REFL"),
         block=("BLOCK_FOOD", "BY_ACCIDENT"), negatable="REFL"),
    Rule("pain to myself", "self_harm", ("PAIN", "DO", "REFL"), negatable="PAIN"),
    Rule("cut my body", "self_harm", ("SH_CUT", "SELF_BODY"),
         block=("BLOCK_FOOD", "BY_ACCIDENT", "BLOCK_PET"), negatable="SH_CUT"),
    Rule("head against the wall", "self_harm", (("SH_CUT", "HIT"), "HEAD", "AGAINST"),
         block=("PERSON_HOME", "HE_SHE", "PERSON_OTHER"), negatable="HEAD"),
    Rule("scars from cutting", "self_harm", ("SCAR", "SH_CUT")),
    Rule("starving myself", "self_harm", ("STARVE",)),
    Rule("deserve pain", "self_harm", ("DESERVE", "PAIN"), negatable="DESERVE"),
    Rule("cutting again", "self_harm", ("SH_CUT", "I", "AGAIN"),
         block=("BLOCK_FOOD", "BY_ACCIDENT", "BLOCK_PET", *_GAMES), negatable="SH_CUT"),
    # --- sexual abuse -------------------------------------------------------------------
    Rule("sexual assault", "sexual_abuse", ("SEX_STRONG",), negatable="SEX_STRONG"),
    Rule("abused", "sexual_abuse", ("ABUSE_WORD", ("ME", "I", "SEXUAL", "AUX_PASSIVE")),
         negatable="ABUSE_WORD"),
    Rule("touches intimate parts", "sexual_abuse",
         ("TOUCH_ANY", ("INTIMATE", "INTIMATE_PHRASE"))),
    Rule("touches me against my will", "sexual_abuse", ("TOUCH_ANY", ("ME", "AUX_PASSIVE")),
         need_in_message=(("NOT_WANT", "PLACES", "SECRET"),)),
    Rule("touches me", "sexual_abuse", ("TOUCHES_ME",)),
    Rule("forced to touch", "sexual_abuse", ("COERCE", "TOUCH_ANY")),
    Rule("wants me to touch him", "sexual_abuse",
         ("TOUCH_ANY", "THIRD_OBJ", ("WANT", "MUST", "COERCE"), ("PERSON_HOME", "PERSON_OTHER")),
         block=("BLOCK_PET",)),
    Rule("sex", "sexual_abuse", ("SEX", ("ME", "I", "WITH_ME", "COERCE", "MUST", "WANT"))),
    Rule("nude pictures", "sexual_abuse", ("NUDE_PIC",)),
    Rule("naked pictures", "sexual_abuse", (("NAKED", "WITHOUT_CLOTHES"), ("PICTURE", "SHOW"))),
    Rule("secret in the bathroom", "sexual_abuse",
         ("TELL_NOBODY", ("BATH", "IN_MY_BED", "INTIMATE", "TOUCH_ANY"))),
    Rule("made to undress", "sexual_abuse", ("UNDRESS", ("MUST", "COERCE"), ("ME", "REFL", "I")),
         block=("BLOCK_UNDRESS",)),
    Rule("shows intimate parts", "sexual_abuse", ("INTIMATE_STRONG", "SHOW")),
    Rule("in my bed", "sexual_abuse", ("IN_MY_BED", "ADULT_MALE"), block=("BLOCK_BED",)),
    Rule("our secret", "sexual_abuse", ("SECRET", ("WITH_ME", "TOUCH_ANY", "INTIMATE"))),
    Rule("dirty things", "sexual_abuse", ("DIRTY_THINGS", ("WITH_ME", "ME"))),
    Rule("unwanted things", "sexual_abuse", ("THINGS_WITH_ME",), need_in_message=("NOT_WANT",)),
    Rule("unwanted kisses", "sexual_abuse", ("KISS", "ME"), need_in_message=("NOT_WANT",)),
    Rule("filmed undressed", "sexual_abuse", ("FILM", "BATH")),
    Rule("undressed with him", "sexual_abuse",
         ("WITHOUT_CLOTHES", ("ADULT_MALE", "PERSON_OTHER", "HE_SHE", "THIRD_OBJ"))),
    Rule("hand in my clothes", "sexual_abuse", ("UNDER_MY_CLOTHES", ("HAND", "TOUCH_ANY"))),
    Rule("told to take clothes off", "sexual_abuse",
         ("CLOTHES_OFF", ("MUST", "COERCE", "HE_SHE", "ADULT_MALE")),
         block=("BLOCK_UNDRESS",)),
    Rule("strokes my body", "sexual_abuse", ("STROKE", ("SELF_BODY", "INTIMATE")),
         need_in_message=(("NOT_WANT", "SCARY"),)),
    Rule("secret meeting", "sexual_abuse", (("NOT_TELL", "TELL_NOBODY"),),
         need_in_message=("MEET",)),
    # --- domestic violence (someone else at home is hurt) -------------------------------
    Rule("hits someone at home", "domestic_violence", ("HIT_ANY", "DV_TARGET"),
         block=("ME", "REFL", "I_HIT", "BLOCK_NEAR", "SKIP_OVER", "BLOCK_SPORT", *_GAMES),
         negatable="HIT_ANY"),
    Rule("someone at home is hit", "domestic_violence",
         ("AUX_PASSIVE", "HIT_PART", "OTHER_VICTIM"),
         block=("I", "ME", "REFL", "BLOCK_NEAR", *_GAMES), negatable="HIT_PART"),
    Rule("hurts someone at home", "domestic_violence", ("PAIN", "DO", "DV_TARGET"),
         block=("ME", "REFL", "I"), negatable="PAIN"),
    Rule("fighting at home", "domestic_violence", ("FIGHT", ("PARENT", "HOME")), block=("I",)),
    Rule("fighting and bleeding", "domestic_violence", ("FIGHT",), block=("I",),
         need_in_message=("BLEED",)),
    Rule("someone at home bleeds in a fight", "domestic_violence", ("BLEED", "PERSON_HOME"),
         block=("I", "ME"), need_in_message=(("SCREAM", "THROW", "FIGHT"),)),
    Rule("throwing at each other", "domestic_violence", ("THROW", "EACH_OTHER")),
    # --- physical abuse ---------------------------------------------------------------
    Rule("hits me", "physical_abuse", ("HIT", "ME"), block=("REFL", *_GAMES),
         negatable="HIT", block_after=_NEAR),
    Rule("hits me (typo)", "physical_abuse", ("HIT_TYPO", "ME"), negatable="HIT_TYPO"),
    Rule("hurts me with force", "physical_abuse", (("HIT_WEAK", "THROW"), "ME", "FORCE"),
         block=("REFL", "BLOCK_SPORT", *_GAMES), negatable="HIT_WEAK"),
    Rule("throws at me", "physical_abuse", ("THROW", "THROW_AT_ME"),
         block=_GAMES, block_after=_NEAR),
    Rule("I am hit", "physical_abuse", ("AUX_PASSIVE", "HIT_PART"),
         block=("REFL", "BLOCK_NEAR", *_GAMES), negatable="HIT_PART"),
    Rule("gives me blows", "physical_abuse", ("GIVE", "HIT_NOUN", "ME"),
         block=("BLOCK_SPORT", "LAUGH", *_GAMES), negatable="HIT_NOUN"),
    Rule("beaten up", "physical_abuse", ("IN_ELKAAR", "HIT"), block=("I_HIT", *_GAMES)),
    Rule("hurt till it bleeds", "physical_abuse",
         (("HIT", "HIT_WEAK", "SH_CUT", "BITE", "THROW"), "ME", "BLEED"),
         block=("REFL", "ME_REFLEXIVE", "BLOCK_PET", "BLOCK_SPORT"), negatable="BLEED"),
    Rule("I get hit", "physical_abuse", ("GET", "HIT_NOUN"),
         block=("BLOCK_SPORT", "LAUGH", *_GAMES), negatable="HIT_NOUN"),
    Rule("hurts me", "physical_abuse", ("PAIN", "DO", "ME"), block=("REFL",), negatable="PAIN"),
    Rule("bruises from someone", "physical_abuse",
         (("BRUISE", "WOUND"), ("PERSON_HOME", "PERSON_OTHER", "HE_SHE", "THIRD_OBJ")),
         block=("BLOCK_SPORT", "BLOCK_PET", "BY_ACCIDENT")),
    Rule("a parent hits", "physical_abuse", ("HIT", "PERSON_HOME"),
         block=("I_HIT", "BLOCK_NEAR", "SKIP_OVER", "BLOCK_SPORT", *_GAMES), negatable="HIT"),
    Rule("mistreated", "physical_abuse", ("MISTREAT",), negatable="MISTREAT"),
    Rule("locked up", "physical_abuse", (("LOCK", "LOCK_SEQ"), ("ME", "AUX_PASSIVE")),
         negatable=None),
    Rule("pulls my hair", "physical_abuse", ("PULL", "HAIR", "ME")),
    Rule("grabs my throat", "physical_abuse", (("GRAB", "HIT_WEAK", "HIT"), "THROAT"),
         block=("I_HIT", "BLOCK_PET", "BLOCK_SPORT")),
    Rule("head under water", "physical_abuse",
         ("UNDER_WATER", "HEAD", ("HIT_WEAK", "GRAB", "PERSON_HOME", "HE_SHE")), block=("I",)),
    Rule("gets the belt", "physical_abuse", ("BELT",)),
    Rule("twists my arm", "physical_abuse",
         ("TWIST", "SELF_BODY", ("PERSON_HOME", "HE_SHE", "PERSON_OTHER")), block=("I",)),
    Rule("until I cry", "physical_abuse", ("UNTIL_CRY", ("MUST", "HE_SHE", "PERSON_HOME")),
         block=("LAUGH", "BORING")),
    Rule("bites me", "physical_abuse", ("BITE", "ME"), block=("BLOCK_PET",), negatable="BITE"),
    Rule("ties me up", "physical_abuse", ("TIE", "ME"), negatable="TIE"),
    Rule("burns me", "physical_abuse",
         ("BURN_HURT", "ME", ("PERSON_HOME", "PERSON_OTHER", "HE_SHE")),
         block=("BLOCK_FOOD", "REFL"), negatable="BURN_HURT"),
    # --- neglect ------------------------------------------------------------------------
    Rule("no food", "neglect", ("NO_FOOD",), block=("NO_WANT_FOOD",)),
    Rule("not eaten for days", "neglect", ("NOT_EATEN", "DAYS")),
    Rule("not allowed to eat", "neglect", ("NO_EAT_ALLOWED",)),
    Rule("food only if", "neglect", ("FOOD_ONLY_IF",)),
    Rule("left alone for days", "neglect",
         (("ALONE", "NOT_HOME"), "DAYS", ("LEFT", "PARENT", "HOME")), block=("BLOCK_CAMP",)),
    Rule("nobody cares for me", "neglect", ("NOBODY_CARES",)),
    Rule("nobody takes care", "neglect", ("NOBODY", "CARE", "ME")),
    Rule("food from the trash", "neglect", (("FOOD", "EAT"), "TRASH")),
    Rule("neglected", "neglect", ("NEGLECT_WORD",)),
    Rule("sleep outside", "neglect", ("SLEEP", "OUTSIDE", ("MUST", "I")), block=("BLOCK_CAMP",)),
    Rule("no clean clothes", "neglect", ("NO_CLEAN",), need_in_message=("CLOTHES",)),
    Rule("same clothes for days", "neglect", ("SAME", "CLOTHES", "DAYS")),
    Rule("parent always drunk", "neglect", ("PARENT", "ADDICTED", "OFTEN")),
    Rule("nobody home, I must care", "neglect", ("NOBODY_HOME",),
         need_in_message=("MUST", ("CARE", "COOK"))),
    Rule("food locked away", "neglect", ("FRIDGE", "LOCKED")),
)
