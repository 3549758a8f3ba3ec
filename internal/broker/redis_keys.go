package broker

// redisKeys names what the Redis backend keeps and where it publishes.
// A channel's keys share the hash tag {c:NAME}, so a Cluster keeps them
// in one slot and a script may touch them all. A name holding "}" ends
// the tag early, at the same place in each of its keys: they still share
// a slot.
type redisKeys struct{ prefix string }

func (k redisKeys) channelTag(ch string) string { return k.prefix + ":{c:" + ch + "}" }

// meta is the channel's stream position: a hash of the newest offset
// ("o") and the epoch ("e").
func (k redisKeys) meta(ch string) string { return k.channelTag(ch) + ":m" }

// stream keeps the channel's publications, entry id OFFSET-0.
func (k redisKeys) stream(ch string) string { return k.channelTag(ch) + ":s" }

// presence is client -> ClientInfo; presenceExpiry client -> expiry.
func (k redisKeys) presence(ch string) string       { return k.channelTag(ch) + ":p" }
func (k redisKeys) presenceExpiry(ch string) string { return k.channelTag(ch) + ":pe" }

// nodes is node id -> NodeInfo; nodesExpiry node id -> expiry.
func (k redisKeys) nodes() string       { return k.prefix + ":{nodes}:h" }
func (k redisKeys) nodesExpiry() string { return k.prefix + ":{nodes}:e" }

// session is a record of Sessions, a key of its own.
func (k redisKeys) session(key string) string { return k.prefix + ":{s:" + key + "}" }

// The pub/sub channels: one per herald channel (publications, joins and
// leaves), per user (pushes), per node (control to it), and one for
// control to every node.
func (k redisKeys) channelTopic(ch string) string { return k.prefix + ":c:" + ch }
func (k redisKeys) userTopic(user string) string  { return k.prefix + ":u:" + user }
func (k redisKeys) nodeTopic(node string) string  { return k.prefix + ":n:" + node }
func (k redisKeys) allTopic() string              { return k.prefix + ":all" }

// The routes name, in a Cluster, the slot a topic's messages are sent
// from (see RedisBroker.publish); no key by these names is written. A
// channel's is its meta key.
func (k redisKeys) userRoute(user string) string { return k.prefix + ":{u:" + user + "}" }
func (k redisKeys) nodeRoute(node string) string { return k.prefix + ":{n:" + node + "}" }
func (k redisKeys) allRoute() string             { return k.prefix + ":{all}" }
