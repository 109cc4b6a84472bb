"""Legacy Agora tokens: the "006" AccessToken and its builders, DynamicKey v1-v5, SignalingToken.

The names follow Agora's reference Python modules::

    from accesstoken2.legacy import RtcTokenBuilder, Role_Publisher
    token = RtcTokenBuilder.buildTokenWithUid(app_id, app_certificate, "room", 42, Role_Publisher, expire_at)

* :class:`AccessToken` ("006"): build, :meth:`~AccessToken.parse` and
  :meth:`~AccessToken.verify` (which needs the channel name and uid: the token holds only
  their CRCs).  Privilege ids are in :class:`Privileges` and as the reference's ``k...`` constants.
* :class:`RtcTokenBuilder` / :class:`RtmTokenBuilder` with the ``Role_...`` constants.
* One module per older generator, named like the reference module and holding its function
  names (camelCase) next to snake_case ones: :mod:`.dynamic_key` (v1, ``generate``),
  :mod:`.dynamic_key2`, :mod:`.dynamic_key3`, :mod:`.dynamic_key4` (``generatePublicSharingKey``,
  ``generateRecordingKey``, ``generateMediaChannelKey``), :mod:`.dynamic_key5` (the same plus
  ``generateInChannelPermissionKey`` and ``generateSignature``) and :mod:`.signaling_token`
  (``generateSignalingToken``).

All times here are absolute Unix seconds.  App ids and certificates must be 32 hexadecimal
characters everywhere (the reference padded shorter app ids; this package refuses them).  Bad
input raises the :mod:`accesstoken2.errors` exceptions, whose messages name the parameter.
"""

from __future__ import annotations

from . import dynamic_key, dynamic_key2, dynamic_key3, dynamic_key4, dynamic_key5, signaling_token
from .access_token import (
    AccessToken,
    Privilege,
    Privileges,
    kAdministrateChannel,
    kInvitePublishAudioStream,
    kInvitePublishDataStream,
    kInvitePublishVideoStream,
    kJoinChannel,
    kPublishAudiocdn,
    kPublishAudioStream,
    kPublishDataStream,
    kPublishVideoCdn,
    kPublishVideoStream,
    kRequestPublishAudioStream,
    kRequestPublishDataStream,
    kRequestPublishVideoStream,
    kRtmLogin,
)
from .builders import (
    Role_Admin,
    Role_Attendee,
    Role_Publisher,
    Role_Rtm_User,
    Role_Subscriber,
    RtcTokenBuilder,
    RtmTokenBuilder,
)
from .signaling_token import generate_signaling_token, generateSignalingToken

__all__ = [
    "AccessToken",
    "Privilege",
    "Privileges",
    "Role_Admin",
    "Role_Attendee",
    "Role_Publisher",
    "Role_Rtm_User",
    "Role_Subscriber",
    "RtcTokenBuilder",
    "RtmTokenBuilder",
    "dynamic_key",
    "dynamic_key2",
    "dynamic_key3",
    "dynamic_key4",
    "dynamic_key5",
    "generateSignalingToken",
    "generate_signaling_token",
    "kAdministrateChannel",
    "kInvitePublishAudioStream",
    "kInvitePublishDataStream",
    "kInvitePublishVideoStream",
    "kJoinChannel",
    "kPublishAudioStream",
    "kPublishAudiocdn",
    "kPublishDataStream",
    "kPublishVideoCdn",
    "kPublishVideoStream",
    "kRequestPublishAudioStream",
    "kRequestPublishDataStream",
    "kRequestPublishVideoStream",
    "kRtmLogin",
    "signaling_token",
]
