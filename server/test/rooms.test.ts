import assert from 'node:assert/strict';
import { test } from 'node:test';
import { offerSchema } from '../src/protocol/index.js';
import { RoomRegistry, newPeerId, type JoinResult } from '../src/rooms.js';

function joined<T>(result: JoinResult<T>): Extract<JoinResult<T>, { ok: true }> {
  assert.equal(result.ok, true, `join refused: ${JSON.stringify(result)}`);
  if (!result.ok) throw new Error('unreachable');
  return result;
}

test('newPeerId() makes ids the protocol accepts as "to"', () => {
  for (let i = 0; i < 100; i++) {
    const to = newPeerId();
    assert.ok(offerSchema.safeParse({ type: 'offer', to, sdp: 'v=0' }).success, to);
  }
});

test('join() gives every member a unique server-made id, whatever the handle', () => {
  const rooms = new RoomRegistry<string>();
  const ids = new Set<string>();
  for (let i = 0; i < 500; i++) {
    // The same handle twice still gets two ids: the registry never derives ids from its input.
    const { member } = joined(rooms.join(`room-${i % 7}`, 'browser', 'same handle'));
    assert.match(member.peerId, /^p_[A-Za-z0-9_-]{12}$/);
    ids.add(member.peerId);
  }
  assert.equal(ids.size, 500);
  assert.equal(rooms.memberCount, 500);
  assert.equal(rooms.roomCount, 7);
});

test('join() returns the members already in the room, not those of other rooms', () => {
  const rooms = new RoomRegistry<string>();
  const first = joined(rooms.join('a', 'gateway', 'g'));
  assert.deepEqual(first.peers, []);
  assert.deepEqual(first.member, { peerId: first.member.peerId, room: 'a', role: 'gateway', handle: 'g' });
  joined(rooms.join('b', 'browser', 'other room'));
  const second = joined(rooms.join('a', 'browser', 'b1'));
  assert.deepEqual(second.peers, [{ peerId: first.member.peerId, role: 'gateway' }]);
  const third = joined(rooms.join('a', 'browser', 'b2'));
  assert.deepEqual(
    third.peers.map((p) => p.peerId),
    [first.member.peerId, second.member.peerId],
  );
});

test('findInRoom() finds a member of the same room only', () => {
  const rooms = new RoomRegistry<string>();
  const a = joined(rooms.join('a', 'gateway', 'ga')).member;
  const a2 = joined(rooms.join('a', 'browser', 'ba')).member;
  const b = joined(rooms.join('b', 'browser', 'bb')).member;
  assert.equal(rooms.findInRoom('a', a2.peerId), a2);
  assert.equal(rooms.findInRoom('a', a.peerId)?.handle, 'ga');
  assert.equal(rooms.findInRoom('a', b.peerId), undefined, 'a member of another room');
  assert.equal(rooms.findInRoom('b', a.peerId), undefined, 'a member of another room');
  assert.equal(rooms.findInRoom('a', 'p_nobody000000'), undefined, 'an unknown id');
  assert.equal(rooms.findInRoom('nowhere', a.peerId), undefined, 'a room that does not exist');
});

test('othersInRoom() lists the room without the given member', () => {
  const rooms = new RoomRegistry<string>();
  const a = joined(rooms.join('a', 'gateway', 'ga')).member;
  const b = joined(rooms.join('a', 'browser', 'ba')).member;
  joined(rooms.join('z', 'browser', 'elsewhere'));
  assert.deepEqual(rooms.othersInRoom('a', a.peerId), [b]);
  assert.deepEqual(rooms.othersInRoom('a', 'p_nobody000000'), [a, b]);
  assert.deepEqual(rooms.othersInRoom('nowhere', a.peerId), []);
});

test('leave() returns the members remaining in the room and forgets the id', () => {
  const rooms = new RoomRegistry<string>();
  const a = joined(rooms.join('a', 'gateway', 'ga')).member;
  const b = joined(rooms.join('a', 'browser', 'ba')).member;
  const c = joined(rooms.join('a', 'browser', 'ca')).member;
  joined(rooms.join('z', 'browser', 'elsewhere'));
  assert.deepEqual(rooms.leave(b.peerId), [a, c]);
  assert.equal(rooms.findInRoom('a', b.peerId), undefined);
  assert.deepEqual(rooms.leave(b.peerId), [], 'leaving twice');
  assert.deepEqual(rooms.leave('p_nobody000000'), [], 'an unknown id');
  assert.deepEqual(rooms.leave(a.peerId), [c]);
  assert.deepEqual(rooms.leave(c.peerId), []);
});

test('leave() of the last member removes the room', () => {
  const rooms = new RoomRegistry<string>();
  const a = joined(rooms.join('a', 'gateway', 'ga')).member;
  const b = joined(rooms.join('b', 'browser', 'bb')).member;
  assert.equal(rooms.roomCount, 2);
  rooms.leave(a.peerId);
  assert.equal(rooms.roomCount, 1);
  assert.equal(rooms.memberCount, 1);
  rooms.leave(b.peerId);
  assert.equal(rooms.roomCount, 0);
  assert.equal(rooms.memberCount, 0);
  // A room that was removed starts afresh.
  assert.deepEqual(joined(rooms.join('a', 'browser', 'again')).peers, []);
});

test('join() of a room at maxPeersPerRoom returns ROOM_FULL and changes nothing', () => {
  const rooms = new RoomRegistry<string>(2);
  const a = joined(rooms.join('a', 'gateway', 'ga')).member;
  joined(rooms.join('a', 'browser', 'ba'));
  assert.deepEqual(rooms.join('a', 'browser', 'third'), { ok: false, code: 'ROOM_FULL' });
  assert.equal(rooms.memberCount, 2);
  assert.equal(rooms.othersInRoom('a', a.peerId).length, 1);
  // Other rooms have their own limit.
  joined(rooms.join('b', 'browser', 'bb'));
  // A place frees up when a member leaves.
  rooms.leave(a.peerId);
  joined(rooms.join('a', 'browser', 'third'));
  assert.deepEqual(rooms.join('a', 'browser', 'fourth'), { ok: false, code: 'ROOM_FULL' });
});

test('RoomRegistry allows 1000 peers per room by default', () => {
  const rooms = new RoomRegistry<number>();
  assert.equal(rooms.maxPeersPerRoom, 1000);
  for (let i = 0; i < 1000; i++) joined(rooms.join('big', 'browser', i));
  assert.deepEqual(rooms.join('big', 'browser', 1000), { ok: false, code: 'ROOM_FULL' });
});
