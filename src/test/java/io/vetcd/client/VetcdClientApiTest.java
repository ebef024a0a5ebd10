package io.vetcd.client;

/** The client's API against an in-process vetcd member. */
class VetcdClientApiTest extends ClientContract {
  InProcessMember member;

  @Override
  String startServer() throws Exception {
    member = new InProcessMember();
    return member.endpoint();
  }

  @Override
  void stopServer() throws Exception {
    if (member != null) member.close();
  }
}
