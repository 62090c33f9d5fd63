"""Reusing PendulaTrigger across two Segment workspaces (US and EU) in one Pulumi program."""

import pulumi
import pulumi_segment as segment

from components import PendulaTrigger

US_API = "https://api.segmentapis.com"
EU_API = "https://eu1.api.segmentapis.com"

config = pulumi.Config()
# Each workspace has its own Public API token and region, so each gets an explicit provider;
# the component hands it to its Segment children through `providers=[...]`.
us = segment.Provider("us", url=US_API, token=config.require_secret("usSegmentToken"))
eu = segment.Provider("eu", url=EU_API, token=config.require_secret("euSegmentToken"))

us_web = PendulaTrigger(
    "us-web",
    {
        "source_id": "qRTqz5cTyodBXJ4Ex2Ka1W",
        "destination_name": "Pendula (US)",
        "flows": [
            {
                "name": "welcome",
                "url": "https://pendula.app/webhook/inbound/0b5f3c1e-7d2a-4c8e-9f41-2a6d8e3b7c10",
                "trigger": 'type = "track" and event = "Signed Up"',
                "token": config.require_secret("usWelcomeToken"),
            }
        ],
    },
    opts=pulumi.ResourceOptions(providers=[us]),
)

eu_web = PendulaTrigger(
    "eu-web",
    {
        "source_id": "Xw3Rt8YpL5nK2vQm9Jd4Hs",
        "destination_name": "Pendula (EU)",
        "flows": [
            {
                "name": "welcome",
                "url": "https://pendula.app/webhook/inbound/e2d4b6a8-1c3e-4f5a-b7d9-0a2c4e6f8b13",
                "trigger": 'type = "track" and event = "Signed Up"',
                "token": config.require_secret("euWelcomeToken"),
            }
        ],
    },
    opts=pulumi.ResourceOptions(providers=[eu]),
)

pulumi.export("usDestinationId", us_web.destination_id)
pulumi.export("euDestinationId", eu_web.destination_id)
