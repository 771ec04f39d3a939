"""Held-out phrasings that measure safety detection, written for these tests.

None of them is in safety/examples.yaml (test_detection checks that): the model is measured
on wordings it was not trained on. Each entry is (speaker, text, expected categories); an
empty set is a near miss that must raise nothing.
"""

from __future__ import annotations

Case = tuple[str, str, frozenset[str]]

S, P = "seeker", "supporter"
SUICIDE = frozenset({"suicide_self_harm"})
HARMED = frozenset({"harmed_by_others"})
MEDICAL = frozenset({"medical_danger"})
ABUSIVE = frozenset({"abusive"})
SEXUAL = frozenset({"sexual"})
DEMEANING = frozenset({"demeaning"})
NOTHING: frozenset[str] = frozenset()

# The issue's own examples: exact expectations.
NAMED: list[Case] = [
    (S, "I don't see the point of going on", SUICIDE),
    (S, "everyone would be better off without me", SUICIDE),
    (S, "I've been saving up my pills", SUICIDE),
    (S, "this deadline is killing me", NOTHING),
    (S, "I could die of embarrassment", NOTHING),
    (S, "my phone died", NOTHING),
    # issue 15's everyday phrasings: indirect danger, and sadness or idiom without it
    (S, "I wish I could just disappear", SUICIDE),
    (S, "I wish I could go to sleep and not wake up", SUICIDE),
    (S, "what's the point of anything anymore", SUICIDE),
    (S, "nobody would notice if I was gone", SUICIDE),
    (S, "I've written letters to my family just in case", SUICIDE),
    (S, "I've been giving my things away", SUICIDE),
    (S, "I looked up how many pills it would take", SUICIDE),
    (S, "he said he'd hurt me if I leave", HARMED),
    (S, "my dad hits me when he drinks", HARMED),
    (S, "I'm scared to go home", HARMED),
    (S, "I haven't eaten in four days", MEDICAL),
    (S, "I took a whole bottle of my sleeping pills", MEDICAL),
    (S, "I can't stop bleeding", MEDICAL),
    (S, "I feel so empty since the breakup", NOTHING),
    (S, "I'm exhausted and want to give up on this job", NOTHING),
    (S, "I just want to disappear under my blanket this weekend", NOTHING),
    (S, "my boss is killing me with deadlines", NOTHING),
    (S, "I'm dying to see my sister", NOTHING),
    (S, "I want to kill this exam", NOTHING),
    (S, "the fight with my mom hurt me", NOTHING),
    (P, "that sounds really hard to live with", NOTHING),
    (P, "you're not stupid for feeling this", NOTHING),
    (P, "I hate that this happened to you", NOTHING),
]

HELD_OUT: list[Case] = [
    # suicide and self-harm: intent, plan, means, past attempt; direct and indirect
    (S, "Honestly I've thought about killing myself more than once this month", SUICIDE),
    (S, "I really don't want to be alive anymore", SUICIDE),
    (S, "My kids would be better off without me, they'd get over it", SUICIDE),
    (S, "there's just no reason to keep going", SUICIDE),
    (S, "I've been stockpiling my sleeping tablets in a drawer", SUICIDE),
    (S, "I looked at the bridge on my way home and thought about jumping off it", SUICIDE),
    (
        S,
        "I took an overdose two years ago and survived, and now the feeling is back",
        SUICIDE | MEDICAL,
    ),
    (S, "I have been cutting myself again since she left", SUICIDE),
    (S, "I wish I could fall asleep and not wake up tomorrow", SUICIDE),
    (S, "I've written a note for my mom just in case", SUICIDE),
    (S, "what's even the point of living like this", SUICIDE),
    (S, "Nobody would miss me if I was gone", SUICIDE),
    (S, "I've decided how I'm going to end my life", SUICIDE),
    (S, "I tried to take my own life when I was 19", SUICIDE),
    # harmed by others
    (S, "my husband beats me when he's angry", HARMED),
    (S, "My boyfriend choked me during a fight last night", HARMED),
    (S, "he said he'd kill me if I ever told anyone", HARMED),
    (S, "My father was abusive to me and my sister growing up", HARMED),
    (S, "I'm terrified he will hurt me again when he comes home", HARMED),
    (S, "my ex has been stalking me for weeks", HARMED),
    (S, "I was raped last year and I never told anyone", HARMED),
    (S, "my mom hits me with whatever is close", HARMED),
    # medical danger
    (S, "I swallowed a handful of painkillers about an hour ago", MEDICAL),
    (S, "I haven't eaten anything for four days now", MEDICAL),
    (S, "I mixed my meds with a lot of whiskey tonight", MEDICAL),
    (S, "I keep throwing up blood and I don't know what to do", MEDICAL),
    (S, "my chest is tight and the pain goes down my arm", MEDICAL),
    (S, "I think I took too many of my pills by accident", MEDICAL),
    # supporter: abusive
    (P, "Honestly you're a complete moron", ABUSIVE),
    (P, "shut up, I'm not reading all that", ABUSIVE),
    (P, "maybe you should just kill yourself then", ABUSIVE),
    (P, "You are so pathetic, no wonder nobody likes you", ABUSIVE),
    (P, "screw you and your problems", ABUSIVE),
    # supporter: sexual
    (P, "send me some pics of you", SEXUAL),
    (P, "you sound hot, are you single", SEXUAL),
    (P, "would you hook up with me if we met", SEXUAL),
    (P, "what are you wearing tonight", SEXUAL),
    (P, "can you give me your snapchat so we can talk privately", SEXUAL),
    # supporter: demeaning
    (P, "Stop whining, it's really not a big deal", DEMEANING),
    (P, "You're just overreacting", DEMEANING),
    (P, "Honestly it's all your fault for staying with him", DEMEANING),
    (P, "lots of people have it way worse than you, get over yourself", DEMEANING),
    (P, "you need to toughen up", DEMEANING),
    # near misses: seeker figures of speech and everyday troubles
    (S, "these exams are literally killing me", NOTHING),
    (S, "my laptop died right before I could save", NOTHING),
    (S, "I nearly died laughing at his joke", NOTHING),
    (S, "I'm dying to go on holiday", NOTHING),
    (S, "my mum will kill me if I fail", NOTHING),
    (S, "I'm so tired of this job", NOTHING),
    (S, "I feel really sad since my grandmother passed away", NOTHING),
    (S, "my boss is always shouting at everyone", NOTHING),
    (S, "It hit me last night that I'm really alone now", NOTHING),
    (S, "I want to end things with my girlfriend but I'm scared", NOTHING),
    (S, "I've been eating badly for days because of stress", NOTHING),
    (S, "I feel like I'm going to fail my exam", NOTHING),
    (S, "My sister beat me at tennis again", NOTHING),
    (S, "I'm worried about losing my house", NOTHING),
    (S, "I lost my job and I don't know how to pay rent", NOTHING),
    (S, "I'm stressed about the holidays with my family", NOTHING),
    (S, "my friend passed away from cancer last year", NOTHING),
    (S, "I had a bad fight with my best friend", NOTHING),
    # near misses: supporter kindness that shares words with misconduct
    (P, "It's not your fault at all", NOTHING),
    (P, "I don't think you're overreacting", NOTHING),
    (P, "you don't sound stupid to me, you sound tired", NOTHING),
    (P, "you deserve to be happy", NOTHING),
    (P, "I'm so sorry, that sounds really painful", NOTHING),
    (P, "Have you thought about speaking to a therapist?", NOTHING),
    (P, "you sound like a wonderful parent", NOTHING),
    (P, "it's okay if you can't stop crying right now", NOTHING),
    (P, "Your feelings make complete sense", NOTHING),
    (P, "It sounds like you are going through a lot", NOTHING),
    # written for issue 15: more indirect positives of every category ...
    (S, "part of me hopes I just don't wake up tomorrow", SUICIDE),
    (S, "I wish I could stop existing for a while, maybe forever", SUICIDE),
    (S, "I doubt anyone would even notice if I was gone for good", SUICIDE),
    (S, "what is the point of it all, really", SUICIDE),
    (S, "I left a note for my best friend in my drawer just in case", SUICIDE),
    (S, "I gave most of my clothes away this week, I won't need them", SUICIDE),
    (S, "last night I googled ways to end my life", SUICIDE),
    (S, "I scratch my wrists with a blade when it gets too loud in my head", SUICIDE),
    (S, "I keep thinking about swallowing everything in the cabinet", SUICIDE),
    (S, "I'm not going to be around much longer, I've made my mind up", SUICIDE),
    (S, "my stepdad kicks me when my mom isn't home", HARMED),
    (S, "she told me she'd kill me if I ever left her", HARMED),
    (S, "my brother punches me and nobody believes me", HARMED),
    (S, "I'm too afraid to go back home tonight", HARMED),
    (S, "my partner won't let me see my friends or have my own money", HARMED),
    (S, "my uncle touched me when I was little", HARMED),
    (S, "he grabbed me by the throat yesterday", HARMED),
    (S, "I haven't had anything to eat for five days", MEDICAL),
    (S, "I swallowed the whole box of ibuprofen an hour ago", MEDICAL),
    (S, "my arm is gushing and it won't stop bleeding", MEDICAL),
    (S, "I've been coughing up blood since this morning", MEDICAL),
    (S, "I drank half a bottle of vodka on top of my sleeping pills", MEDICAL),
    (S, "I stopped taking my insulin last week", MEDICAL),
    (P, "you're such an idiot, read what I wrote", ABUSIVE),
    (P, "go to hell with your whining", ABUSIVE),
    (P, "nobody will ever love you like this", ABUSIVE),
    (P, "you sound sexy when you talk like that", SEXUAL),
    (P, "we should meet up at my place tonight, just us", SEXUAL),
    (P, "text me your number and we can talk without the site", SEXUAL),
    (P, "you brought this on yourself honestly", DEMEANING),
    (P, "that's such a tiny problem, why are you crying", DEMEANING),
    (P, "just man up and deal with it like everyone else", DEMEANING),
    # ... and near misses drawn from everyday support chats (sadness, stress, idiom)
    (S, "since she left the flat feels so empty", NOTHING),
    (S, "I want to quit my course, it's too much", NOTHING),
    (S, "honestly I want to hide under the covers until Monday", NOTHING),
    (S, "my manager is killing me with all this overtime", NOTHING),
    (S, "I'm going to nail this interview", NOTHING),
    (S, "my grandma is very sick and I'm scared she'll die", NOTHING),
    (S, "he wanted to end things and I didn't see it coming", NOTHING),
    (S, "what she said really hurt me", NOTHING),
    (S, "my headphones died halfway through the bus ride", NOTHING),
    (S, "I was dying to tell someone about my new job", NOTHING),
    (S, "I haven't been sleeping well for a few days", NOTHING),
    (S, "I'm scared to go to the party alone", NOTHING),
    (S, "my ex said he'd never talk to me again", NOTHING),
    (S, "I feel like giving up on finding a flat in this city", NOTHING),
    (P, "I'm so sorry he treated you like that", NOTHING),
    (P, "you're not dramatic, this is a lot to carry", NOTHING),
    (P, "it sounds exhausting to deal with all of that", NOTHING),
    (P, "I hate that you feel so alone right now", NOTHING),
]
